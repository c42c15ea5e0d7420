/**
 * The access matrix at scale: seeds 1,000 principals (900 people, 5 of them admins, 100 service accounts),
 * 200 connections, 50 groups and 100,000 sessions (each with a result event carrying masking marks) into a
 * real PostgreSQL (initdb on a free port), then times the matrix query the /access/matrix page runs:
 * the first read (which folds every result event into the touched-types rollup), then p50/p90 over N runs of
 * the first page unfiltered, filtered by connection, "only unused", by touched type, and the full CSV export.
 * Usage: npm run bench:access [-- --runs 20]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    principals: { type: "string", default: "1000" },
    connections: { type: "string", default: "200" },
    sessions: { type: "string", default: "100000" },
    /** print the query plan of the unfiltered first page */
    explain: { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);
const PRINCIPALS = Number(values.principals);
const CONNECTIONS = Number(values.connections);
const SESSIONS = Number(values.sessions);
const GROUPS = 50;

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function seed(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`
    insert into users (id, email, name, role, kind, auth_source, created_at)
    select 'u' || g, 'user' || g || '@example.com', 'User ' || g,
      case when g <= 5 then 'admin' else 'member' end,
      case when g > ${PRINCIPALS} - ${Math.round(PRINCIPALS / 10)} then 'service' else 'person' end,
      case when g > ${PRINCIPALS} - ${Math.round(PRINCIPALS / 10)} then 'service' else 'local' end,
      now() - interval '400 days'
    from generate_series(1, ${PRINCIPALS}) g;
    insert into groups (id, name) select 'g' || g, 'group-' || g from generate_series(1, ${GROUPS}) g;
    insert into connections (id, name, kind, host, port, username, secret)
    select 'c' || g, 'conn-' || lpad(g::text, 3, '0'), 'postgres', 'db' || g || '.internal', 5432, 'app', 'sealed'
    from generate_series(1, ${CONNECTIONS}) g;
    -- each connection usable by one or two groups; each principal in three groups
    insert into connection_groups (connection_id, group_id)
    select 'c' || g, 'g' || (1 + g % ${GROUPS}) from generate_series(1, ${CONNECTIONS}) g
    union
    select 'c' || g, 'g' || (1 + (g * 7) % ${GROUPS}) from generate_series(1, ${CONNECTIONS}) g where g % 2 = 0;
    insert into group_members (group_id, user_id, created_at)
    select distinct 'g' || (1 + (u * k * 13) % ${GROUPS}), 'u' || u, now() - ((u % 200) || ' days')::interval
    from generate_series(1, ${PRINCIPALS}) u, generate_series(1, 3) k;
    insert into access_grants (id, user_id, connection_id, duration_minutes, state, starts_at, expires_at)
    select 'grant' || g, 'u' || (1 + (g * 37) % ${PRINCIPALS}), 'c' || (1 + (g * 11) % ${CONNECTIONS}), 480,
      'active', now() - interval '1 hour', now() + interval '7 hours'
    from generate_series(1, 100) g;
    -- sessions on pairs that have access: a member's group's connections
    create temp table pairs as
      select row_number() over () as n, gm.user_id, cg.connection_id
      from group_members gm join connection_groups cg on cg.group_id = gm.group_id;
    insert into sessions (id, principal_id, principal_label, principal_kind, connection_id, connection_name,
      kind, channel, state, started_at, last_activity_at, ended_at, statements, allowed, masked_fields)
    select 's' || g, p.user_id, u.email, u.kind, p.connection_id, c.name, 'sql', 'api', 'ended',
      now() - ((g % 120) || ' days')::interval - ((g % 1440) || ' minutes')::interval,
      now() - ((g % 120) || ' days')::interval - ((g % 1440) || ' minutes')::interval + interval '5 minutes',
      now() - ((g % 120) || ' days')::interval - ((g % 1440) || ' minutes')::interval + interval '5 minutes',
      1 + g % 20, 1 + g % 20, g % 3
    from generate_series(1, ${SESSIONS}) g
    join pairs p on p.n = 1 + (g * 7919) % (select count(*) from pairs)
    join users u on u.id = p.user_id
    join connections c on c.id = p.connection_id;
    insert into session_events (session_id, at, type, data)
    select s.id, s.started_at + interval '1 minute', 'result',
      jsonb_build_object('status', 'done', 'results', jsonb_build_array(jsonb_build_object(
        'statement', 'select * from customers',
        'maskedTypes', case (substr(s.id, 2)::int) % 3 when 0 then '["credit_card","email"]'::jsonb
          when 1 then '["email"]'::jsonb else '[]'::jsonb end,
        'maskedColumns', case (substr(s.id, 2)::int) % 3 when 0 then '["card_number","email"]'::jsonb
          when 1 then '["email"]'::jsonb else '[]'::jsonb end)))
    from sessions s;
    analyze;`);
  const [counts] =
    await sql`select (select count(*) from users) as users, (select count(*) from connections) as connections,
    (select count(*) from sessions) as sessions, (select count(*) from session_events) as events`;
  await sql.end();
  return counts;
}

async function main() {
  const pg = await startPostgres();
  const url = await createDatabase(pg.url, "store");
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-access-"));
  process.env.DATABASE_URL = url;
  process.env.DATA_DIR = dataDir;
  try {
    const { getDb, getStore } = await import("../db/store");
    const db = await getDb(); // runs migrations
    const started = performance.now();
    const counts = await seed(url);
    console.log(`seeded ${JSON.stringify(counts)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const { queryMatrix } = await import("../server/access-review/matrix");
    const { matrixFiltersSchema } = await import("../server/access-review/schema");
    const filters = (raw: Record<string, unknown>) => matrixFiltersSchema.parse(raw);

    const first = performance.now();
    const initial = await queryMatrix(db, filters({}));
    console.log(
      `first read (folds ${counts?.events} result events into the rollup): ${ms(performance.now() - first)}; ${initial.total} (principal, connection) rows`,
    );
    if (values.explain) {
      const { sql } = await import("drizzle-orm");
      const { matrixPageSql } = await import("../server/access-review/matrix");
      const plan = await db.execute(
        sql`explain (analyze, buffers) ${matrixPageSql(filters({}), new Date())}`,
      );
      const lines = (Array.isArray(plan) ? plan : []) as Record<string, string>[];
      console.log(lines.map((l) => Object.values(l)[0]).join("\n"));
    }
    const cases: [string, () => Promise<unknown>][] = [
      ["page 1 (100 rows), no filter", () => queryMatrix(db, filters({}))],
      ["filtered by connection", () => queryMatrix(db, filters({ connection: "conn-042" }))],
      ["only unused standing access", () => queryMatrix(db, filters({ unused: "1" }))],
      ["touched type credit_card", () => queryMatrix(db, filters({ type: "credit_card" }))],
      ["every row (CSV export)", () => queryMatrix(db, filters({}), { all: true })],
    ];
    console.log(`\n| matrix query (${RUNS} runs) | p50 | p90 |\n| --- | --- | --- |`);
    for (const [name, run] of cases) {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await run();
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      console.log(`| ${name} | ${ms(percentile(samples, 50))} | ${ms(percentile(samples, 90))} |`);
    }
    await (await getStore()).close();
  } finally {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
