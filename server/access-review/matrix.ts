/**
 * The access matrix: every principal's current access to every connection (through which group, grant or the
 * admin role, since when) with its use (last used, sessions and statements in 30 and 90 days) and the masked
 * types and columns its results touched. One SQL query over the store; the touched marks come from a rollup
 * (access_touches) that folds new result events in by id before each read, so the page never scans event
 * payloads it has seen. Not responsible for permissions (permissions.ts, matrix-service.ts) or campaigns.
 */
import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { rowsOf } from "@/db/rows";
import type { Db } from "@/db/store";
import { settledEventId } from "@/server/recording";
import { type AccessPath, isUnusedAccess, type MatrixRow } from "./evidence";
import type { MatrixFilters } from "./schema";

const TOUCH_BATCH = 20_000;
/** How long a read of the matrix waits for appends in flight (milliseconds, usually) before folding. */
const SETTLE_WAIT_MS = 2_000;
const ROLLUP_ID = "access_touches";

/**
 * Folds result events after the rollup's watermark into access_touches, a batch at a time. Idempotent
 * (first/last times merge with least/greatest), so two replicas doing it at once only repeat work. Only settled
 * ids are folded (settledEventId): an append can take an id and commit after a later one, and a watermark moved
 * past it would never fold it. When appends in flight do not settle within `settleWaitMs`, nothing new is folded
 * this time (the page shows what was folded before; the next read folds the rest).
 */
export async function refreshTouches(db: Db, settleWaitMs = SETTLE_WAIT_MS): Promise<number> {
  let folded = 0;
  const upTo = await settledEventId(db, settleWaitMs);
  if (upTo === null) return folded;
  for (;;) {
    const [state] = rowsOf<{ last: number | string }>(
      await db.execute(
        sql`select coalesce((select last_event_id from access_rollup_state where id = ${ROLLUP_ID}), 0) as last`,
      ),
    );
    const last = Number(state?.last ?? 0);
    const [batch] = rowsOf<{ max: number | string | null; n: number | string }>(
      await db.execute(sql`
        with batch as (
          select id from session_events where id > ${last} and id <= ${upTo} order by id limit ${TOUCH_BATCH}
        )
        select max(id) as max, count(*) as n from batch`),
    );
    const max = batch?.max === null || batch?.max === undefined ? null : Number(batch.max);
    if (max === null) return folded;
    await db.execute(sql`
      with results as (
        select s.principal_id, s.connection_id, e.at,
          case when jsonb_typeof(e.data->'results') = 'array' then e.data->'results' else '[]'::jsonb end as results
        from session_events e join sessions s on s.id = e.session_id
        where e.id > ${last} and e.id <= ${max} and e.type = 'result'
          and s.principal_id is not null and s.connection_id is not null
      ), marks as (
        select principal_id, connection_id, 'type' as kind, t.name, at
        from results, jsonb_array_elements(results) r,
          jsonb_array_elements_text(case when jsonb_typeof(r->'maskedTypes') = 'array' then r->'maskedTypes' else '[]'::jsonb end) t(name)
        union all
        select principal_id, connection_id, 'column', c.name, at
        from results, jsonb_array_elements(results) r,
          jsonb_array_elements_text(case when jsonb_typeof(r->'maskedColumns') = 'array' then r->'maskedColumns' else '[]'::jsonb end) c(name)
      )
      insert into access_touches (principal_id, connection_id, kind, name, first_at, last_at)
      select principal_id, connection_id, kind, name, min(at), max(at)
      from marks where name <> '' group by 1, 2, 3, 4
      on conflict (principal_id, connection_id, kind, name) do update set
        first_at = least(access_touches.first_at, excluded.first_at),
        last_at = greatest(access_touches.last_at, excluded.last_at)`);
    await db.execute(sql`
      insert into access_rollup_state (id, last_event_id, updated_at) values (${ROLLUP_ID}, ${max}, now())
      on conflict (id) do update set
        last_event_id = greatest(access_rollup_state.last_event_id, excluded.last_event_id), updated_at = now()`);
    folded += Number(batch?.n ?? 0);
  }
}

interface RawRow {
  principal_id: string;
  email: string;
  name: string;
  principal_kind: "person" | "service";
  connection_id: string;
  connection: string;
  connection_kind: "postgres" | "ssh";
  paths: AccessPath[] | string;
  since: Date | string;
  last_used: Date | string | null;
  sessions30: number | string;
  sessions90: number | string;
  statements30: number | string;
  statements90: number | string;
  types: string[] | null;
  columns: string[] | null;
  total: number | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

/**
 * One row per current access path: group memberships through connection_groups (minus pairs an access
 * review revoked), active unexpired grants, and admin people on every connection.
 */
function pathRows(): SQL {
  return sql`
    select gm.user_id as principal_id, cg.connection_id,
      jsonb_build_object('via', 'group', 'group', g.name, 'since', gm.created_at) as path,
      gm.created_at as since, true as standing, g.name as group_name
    from group_members gm
    join connection_groups cg on cg.group_id = gm.group_id
    join groups g on g.id = gm.group_id
    where not exists (
      select 1 from access_revocations r
      where r.principal_id = gm.user_id and r.connection_id = cg.connection_id and r.lifted_at is null)
    union all
    select ag.user_id, ag.connection_id,
      jsonb_build_object('via', 'grant', 'grantId', ag.id, 'since', ag.starts_at, 'endsAt', ag.expires_at),
      ag.starts_at, false, null
    from access_grants ag
    where ag.state = 'active' and ag.expires_at > now()
    union all
    select u.id, c.id, jsonb_build_object('via', 'admin', 'since', u.created_at), u.created_at, true, null
    from users u cross join connections c
    where u.role = 'admin' and u.kind = 'person'`;
}

/** Every current (principal, connection) pair, with its paths when `withPaths` (the costly part). */
function pairsQuery(withPaths: boolean): SQL {
  return sql`
    select principal_id, connection_id, min(since) as since, bool_or(standing) as standing,
      array_agg(group_name) filter (where group_name is not null) as group_names
      ${withPaths ? sql`, jsonb_agg(path order by since) as paths` : sql``}
    from (${pathRows()}) x
    group by principal_id, connection_id`;
}

function filtersSql(filters: MatrixFilters, now: Date): SQL[] {
  const where: SQL[] = [sql`not u.disabled`];
  if (filters.principal) {
    const pattern = `%${filters.principal.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(sql`(u.email ilike ${pattern} or u.name ilike ${pattern})`);
  }
  if (filters.group) where.push(sql`${filters.group} = any(p.group_names)`);
  if (filters.connection) where.push(sql`c.name = ${filters.connection}`);
  if (filters.type) {
    where.push(sql`exists (select 1 from access_touches t where t.principal_id = p.principal_id
      and t.connection_id = p.connection_id and t.kind = 'type' and t.name = ${filters.type})`);
  }
  if (filters.unused) {
    const cutoff = new Date(now.getTime() - filters.unusedDays * 86_400_000);
    where.push(sql`p.standing and coalesce(us.last_used, p.since) <= ${cutoff.toISOString()}::timestamptz`);
  }
  return where;
}

export interface MatrixPage {
  rows: MatrixRow[];
  total: number;
  page: number;
  pageSize: number;
  unusedDays: number;
}

/** The matrix query for one page (or every row, with `all`), ordered by principal then connection. */
export function matrixSql(filters: MatrixFilters, now: Date, all = false): SQL {
  const d30 = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const d90 = new Date(now.getTime() - 90 * 86_400_000).toISOString();
  const where = sql.join(filtersSql(filters, now), sql` and `);
  const paging = all ? sql`` : sql`limit ${filters.pageSize} offset ${(filters.page - 1) * filters.pageSize}`;
  return sql`
    with p as (${pairsQuery(true)}),
    us as (
      select principal_id, connection_id, max(last_activity_at) as last_used,
        count(*) filter (where started_at >= ${d30}::timestamptz) as sessions30,
        count(*) filter (where started_at >= ${d90}::timestamptz) as sessions90,
        coalesce(sum(statements) filter (where started_at >= ${d30}::timestamptz), 0) as statements30,
        coalesce(sum(statements) filter (where started_at >= ${d90}::timestamptz), 0) as statements90
      from sessions
      where principal_id is not null
      group by principal_id, connection_id
    ),
    tc as (
      select principal_id, connection_id,
        array_agg(name order by name) filter (where kind = 'type') as types,
        array_agg(name order by name) filter (where kind = 'column') as columns
      from access_touches group by principal_id, connection_id
    )
    select p.principal_id, u.email, u.name, u.kind as principal_kind, p.connection_id, c.name as connection,
      c.kind as connection_kind, p.paths, p.since, us.last_used,
      coalesce(us.sessions30, 0) as sessions30, coalesce(us.sessions90, 0) as sessions90,
      coalesce(us.statements30, 0) as statements30, coalesce(us.statements90, 0) as statements90,
      tc.types, tc.columns, count(*) over () as total
    from p
    join users u on u.id = p.principal_id
    join connections c on c.id = p.connection_id
    left join us on us.principal_id = p.principal_id and us.connection_id = p.connection_id
    left join tc on tc.principal_id = p.principal_id and tc.connection_id = p.connection_id
    where ${where}
    order by lower(u.email), c.name
    ${paging}`;
}

/**
 * One page, page first: the filtered, ordered pairs are found without their evidence, then paths, use and
 * touched marks are read for the page's pairs only, through indexes. Only the "unused" filter needs every
 * pair's last use, so only then is the sessions table aggregated whole.
 */
export function matrixPageSql(filters: MatrixFilters, now: Date): SQL {
  const d30 = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const d90 = new Date(now.getTime() - 90 * 86_400_000).toISOString();
  const where = sql.join(filtersSql(filters, now), sql` and `);
  const lastUse = filters.unused
    ? sql`, us as (
        select principal_id, connection_id, max(last_activity_at) as last_used
        from sessions where principal_id is not null group by principal_id, connection_id)`
    : sql``;
  return sql`
    with p as (${pairsQuery(false)})${lastUse},
    page as (
      select p.principal_id, p.connection_id, lower(u.email) as email_key, c.name as connection_key,
        count(*) over () as total
      from p
      join users u on u.id = p.principal_id
      join connections c on c.id = p.connection_id
      ${filters.unused ? sql`left join us on us.principal_id = p.principal_id and us.connection_id = p.connection_id` : sql``}
      where ${where}
      order by lower(u.email), c.name
      limit ${filters.pageSize} offset ${(filters.page - 1) * filters.pageSize}
    )
    select page.principal_id, u.email, u.name, u.kind as principal_kind, page.connection_id, c.name as connection,
      c.kind as connection_kind, pp.paths, pp.since, use.last_used, use.sessions30, use.sessions90,
      use.statements30, use.statements90, tc.types, tc.columns, page.total
    from page
    join users u on u.id = page.principal_id
    join connections c on c.id = page.connection_id
    cross join lateral (
      select jsonb_agg(x.path order by x.since) as paths, min(x.since) as since
      from (${pathRows()}) x
      where x.principal_id = page.principal_id and x.connection_id = page.connection_id) pp
    cross join lateral (
      select max(s.last_activity_at) as last_used,
        count(*) filter (where s.started_at >= ${d30}::timestamptz) as sessions30,
        count(*) filter (where s.started_at >= ${d90}::timestamptz) as sessions90,
        coalesce(sum(s.statements) filter (where s.started_at >= ${d30}::timestamptz), 0) as statements30,
        coalesce(sum(s.statements) filter (where s.started_at >= ${d90}::timestamptz), 0) as statements90
      from sessions s
      where s.principal_id = page.principal_id and s.connection_id = page.connection_id) use
    cross join lateral (
      select array_agg(t.name order by t.name) filter (where t.kind = 'type') as types,
        array_agg(t.name order by t.name) filter (where t.kind = 'column') as columns
      from access_touches t
      where t.principal_id = page.principal_id and t.connection_id = page.connection_id) tc
    order by page.email_key, page.connection_key`;
}

/** One page of the matrix (or every row, with `all`), ordered by principal then connection. */
export async function queryMatrix(
  db: Db,
  filters: MatrixFilters,
  options: { all?: boolean; now?: Date } = {},
): Promise<MatrixPage> {
  const now = options.now ?? new Date();
  await refreshTouches(db);
  const result = await db.execute(options.all ? matrixSql(filters, now, true) : matrixPageSql(filters, now));
  const raw = rowsOf<RawRow>(result);
  const rows = raw.map((r): MatrixRow => {
    const paths = (typeof r.paths === "string" ? JSON.parse(r.paths) : r.paths) as AccessPath[];
    const normalized = paths.map((path) => ({
      ...path,
      since: iso(path.since),
      ...(path.via === "grant" && { endsAt: iso(path.endsAt) }),
    })) as AccessPath[];
    const row = {
      principalId: r.principal_id,
      principal: r.principal_kind === "service" ? `service:${r.name}` : r.email,
      principalName: r.name,
      principalKind: r.principal_kind,
      connectionId: r.connection_id,
      connection: r.connection,
      connectionKind: r.connection_kind,
      paths: normalized,
      since: iso(r.since),
      lastUsedAt: r.last_used ? iso(r.last_used) : null,
      sessions30: Number(r.sessions30),
      sessions90: Number(r.sessions90),
      statements30: Number(r.statements30),
      statements90: Number(r.statements90),
      touchedTypes: r.types ?? [],
      touchedColumns: r.columns ?? [],
      isUnused: false,
    };
    return { ...row, isUnused: isUnusedAccess(row, now, filters.unusedDays) };
  });
  return {
    rows,
    total: Number(raw[0]?.total ?? 0),
    page: options.all ? 1 : filters.page,
    pageSize: options.all ? rows.length : filters.pageSize,
    unusedDays: filters.unusedDays,
  };
}
