/**
 * The sessions list: one page (50, newest first) of sessions matching filters a person can put in a URL
 * (who, connection, kind, channel, time range, held/blocked, text in statements and commands, a column a
 * result touched), with each session's counters, duration and state. Scope follows the caller: their own
 * sessions, or every session with audit:read. Not responsible for one session's events (getSessionWithEvents).
 *
 * Pages are keyset pages (`before`/`after` a cursor: the start time and id of a listed session) over the
 * index on (started_at, id), so the 2,000th page costs what the first does; `page` (offset) still works for
 * old links and API callers.
 */
import "server-only";
import { and, asc, desc, eq, gt, gte, ilike, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { rowsOf } from "@/db/rows";
import { sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { filterText } from "@/server/http/filter-text";
import { hasPermission, type Principal } from "@/server/principal";
import { searchWatermark } from "./search-index";
import { goneOwners, LOST_SESSION_REASON } from "./sessions-liveness";

export const SESSION_PAGE_SIZE = 50;

/** Filters as they arrive in a query string; empty fields mean "any". */
export const sessionFiltersSchema = z.strictObject({
  user: filterText,
  connection: filterText,
  kind: z
    .enum(["sql", "terminal", ""])
    .optional()
    .transform((v) => v || undefined),
  channel: z
    .enum(["editor", "api", "mcp", "native", "terminal", ""])
    .optional()
    .transform((v) => v || undefined),
  /** "YYYY-MM-DD" or an ISO date-time; times without a zone are UTC */
  from: filterText,
  to: filterText,
  decision: z
    .enum(["held", "blocked", ""])
    .optional()
    .transform((v) => v || undefined),
  /** text in a statement or command line */
  q: filterText,
  /** a column name a recorded result had */
  column: filterText,
  page: z.coerce.number().int().min(1).max(10_000).optional().default(1),
  /** keyset paging (a page's nextCursor / prevCursor): sessions older, or newer, than that one */
  before: filterText,
  after: filterText,
});

export type SessionFilters = z.output<typeof sessionFiltersSchema>;

/** Reads filters from URL search params (API) or a page's searchParams object; bad values are refused. */
export function parseSessionFilters(
  params: URLSearchParams | Record<string, string | string[] | undefined>,
): SessionFilters {
  const raw: Record<string, string> = {};
  const entries =
    params instanceof URLSearchParams
      ? [...params.entries()]
      : Object.entries(params).map(([k, v]) => [k, v]);
  for (const [key, value] of entries) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof key === "string" && typeof first === "string") raw[key] = first;
  }
  return sessionFiltersSchema.parse(raw);
}

export interface SessionSummary {
  id: string;
  principalLabel: string;
  principalKind: "person" | "service";
  connectionName: string;
  kind: "sql" | "terminal";
  channel: "editor" | "api" | "mcp" | "native" | "terminal";
  state: "live" | "ended" | "failed";
  startedAt: string;
  endedAt: string | null;
  lastActivityAt: string;
  durationMs: number;
  statements: number;
  allowed: number;
  held: number;
  blocked: number;
  maskedFields: number;
  /** why it ended when the gateway ended it on its own (its console process stopped); null otherwise */
  endReason: string | null;
  /** a native client's own description of itself, from the session's first event; null for other channels */
  client: { applicationName: string; address: string } | null;
}

export interface SessionPage {
  sessions: SessionSummary[];
  page: number;
  pageSize: number;
  /** whether older sessions follow */
  hasMore: boolean;
  /** `before` for the next (older) page; null when there is none */
  nextCursor: string | null;
  /** `after` for the previous (newer) page; null on the first page */
  prevCursor: string | null;
  /** whether the list covers everyone's sessions (audit:read) or only the caller's */
  isAllSessions: boolean;
}

/** `%` and `_` are wildcards in LIKE; a search for "50%" means the text "50%". */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A filter's date: a whole day ("YYYY-MM-DD", `to` includes that day) or a date-time (UTC if no zone). */
export function parseFilterTime(value: string, edge: "from" | "to"): Date {
  const isDay = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const date = new Date(isDay ? `${value}T00:00:00Z` : hasZone ? value : `${value}Z`);
  if (Number.isNaN(date.getTime())) throw new z.ZodError([invalidTime(edge)]);
  return isDay && edge === "to" ? new Date(date.getTime() + DAY_MS) : date;
}

function invalidTime(edge: "from" | "to"): z.core.$ZodIssue {
  return {
    code: "custom",
    path: [edge],
    message: `"${edge}" is not a date (use YYYY-MM-DD or an ISO date-time)`,
    input: undefined,
  };
}

/** The text of a statement or command event, as the search indexer copies it (search-index.ts). */
const EVENT_TEXT = sql.raw(`coalesce(e.data->>'input', e.data->>'command', '')`);
/** Up to this many matching events, the text filter collects them through the trigram index. */
const FEW_TEXT_MATCHES = 2000;

/**
 * The statement and command events holding the text (session_id per event): the indexed ones through
 * session_search's trigram index, and the few above the indexer's watermark (read before this statement) by a
 * scan of that id range. The watermark only grows, so the table, read later, covers at least every id up to it:
 * no event is missed (one indexed meanwhile may be listed twice, which an `in` does not mind). The watermark goes
 * as a value, not a subquery, so the planner sees how few ids lie above it and walks the primary key.
 */
function eventsWithText(pattern: string, watermark: number): SQL {
  return sql`select s.session_id from session_search s where s.text ilike ${pattern}
    union all
    select e.session_id from session_events e
    where e.id > ${watermark}::bigint
      and e.type in ('statement', 'command') and ${EVENT_TEXT} ilike ${pattern}`;
}

/**
 * How common the searched text is: "few" when at most FEW_TEXT_MATCHES statement or command events hold it
 * (counted through the trigram index, stopping past the limit), else "many".
 */
async function countTextMatches(
  db: Awaited<ReturnType<typeof getDb>>,
  q: string,
  watermark: number,
): Promise<"few" | "many"> {
  const pattern = `%${escapeLike(q)}%`;
  const result = await db.execute(sql`select count(*)::int as n from (
    ${eventsWithText(pattern, watermark)} limit ${FEW_TEXT_MATCHES + 1}) found`);
  const [row] = rowsOf<{ n: number }>(result);
  return Number(row?.n ?? 0) <= FEW_TEXT_MATCHES ? "few" : "many";
}

function conditionsFor(
  principal: Principal,
  filters: SessionFilters,
  textMatches: "few" | "many" = "many",
  watermark = 0,
): SQL[] {
  const where: SQL[] = [];
  if (!hasPermission(principal, "audit:read")) where.push(eq(sessions.principalId, principal.id));
  if (filters.user) where.push(ilike(sessions.principalLabel, `%${escapeLike(filters.user)}%`));
  if (filters.connection) where.push(eq(sessions.connectionName, filters.connection));
  if (filters.kind) where.push(eq(sessions.kind, filters.kind));
  if (filters.channel) where.push(eq(sessions.channel, filters.channel));
  if (filters.from) where.push(gte(sessions.startedAt, parseFilterTime(filters.from, "from")));
  if (filters.to) where.push(lt(sessions.startedAt, parseFilterTime(filters.to, "to")));
  if (filters.decision === "held") where.push(gt(sessions.held, 0));
  if (filters.decision === "blocked") where.push(gt(sessions.blocked, 0));
  if (filters.q) {
    const pattern = `%${escapeLike(filters.q)}%`;
    if (textMatches === "few") {
      // Rare text: the trigram index (session_search_text_trgm_idx) finds the few events holding it.
      where.push(sql`${sessions.id} in (${eventsWithText(pattern, watermark)})`);
    } else {
      // Common text: a per-session probe (a subquery with LIMIT, which the planner keeps per row) walks the
      // sessions newest first and stops at a page (5-40 ms at 100,000 sessions), where collecting every
      // matching event first would read most of them.
      where.push(sql`coalesce((
        select true from session_events e
        where e.session_id = ${sessions.id} and e.type in ('statement', 'command')
          and ${EVENT_TEXT} ilike ${pattern}
        limit 1), false)`);
    }
  }
  if (filters.column) {
    // Result events hold results[] with columns[{name}] (maskedColumns is a subset of those names).
    where.push(sql`exists (
      select 1 from session_events e,
        jsonb_array_elements(case when jsonb_typeof(e.data->'results') = 'array'
          then e.data->'results' else '[]'::jsonb end) r,
        jsonb_array_elements(case when jsonb_typeof(r->'columns') = 'array'
          then r->'columns' else '[]'::jsonb end) c
      where e.session_id = ${sessions.id} and e.type = 'result'
        and lower(c->>'name') = lower(${filters.column}))`);
  }
  return where;
}

/**
 * What the list shows beside the counters, read after the page (two small queries at most, none for a page of
 * editor sessions that ended as usual): a native session's client (its first event, "connect"); which failed
 * sessions were closed as lost with their process (their closing notice); and which live ones are lost already,
 * their process having stopped beating (sessions-liveness.ts), shown ended before a sweep closes them.
 */
async function sessionNotes(db: Awaited<ReturnType<typeof getDb>>, rows: (typeof sessions.$inferSelect)[]) {
  const clients = new Map<string, { applicationName: string; address: string }>();
  const lost = new Set<string>();
  const native = rows.filter((r) => r.channel === "native").map((r) => r.id);
  const failed = rows.filter((r) => r.state === "failed").map((r) => r.id);
  const owners = [
    ...new Set(rows.filter((r) => r.state === "live" && r.ownerProcess).map((r) => r.ownerProcess ?? "")),
  ];
  // Exact lookups: a native session's first event by (session_id, seq), a failed one's notices by
  // (session_id, type).
  const wanted = [
    ...(native.length > 0 ? [and(inArray(sessionEvents.sessionId, native), eq(sessionEvents.seq, 1))] : []),
    ...(failed.length > 0
      ? [and(inArray(sessionEvents.sessionId, failed), eq(sessionEvents.type, "notice"))]
      : []),
  ];
  const [events, gone] = await Promise.all([
    wanted.length === 0
      ? []
      : db
          .select({
            sessionId: sessionEvents.sessionId,
            seq: sessionEvents.seq,
            type: sessionEvents.type,
            data: sessionEvents.data,
          })
          .from(sessionEvents)
          .where(or(...wanted)),
    goneOwners(owners),
  ]);
  for (const { sessionId, seq, type, data } of events) {
    if (type === "connect" && seq === 1) {
      // As PostgreSQL keeps it (NAMEDATALEN - 1): a client's own text, not a place to store a page of it.
      clients.set(sessionId, {
        applicationName: typeof data.applicationName === "string" ? data.applicationName.slice(0, 63) : "",
        address: typeof data.clientAddress === "string" ? data.clientAddress.slice(0, 64) : "",
      });
    }
    if (type === "notice" && data.lost === true) lost.add(sessionId);
  }
  for (const r of rows) if (r.state === "live" && r.ownerProcess && gone.has(r.ownerProcess)) lost.add(r.id);
  return { clients, lost };
}

interface Cursor {
  startedAt: string;
  id: string;
}

function encodeCursor(row: { cursorAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.cursorAt, row.id])).toString("base64url");
}

function decodeCursor(value: string, field: "before" | "after"): Cursor {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as unknown[];
    if (typeof startedAt === "string" && typeof id === "string" && !Number.isNaN(Date.parse(startedAt)))
      return { startedAt, id };
  } catch {
    // falls through to the refusal
  }
  throw new z.ZodError([
    { code: "custom", path: [field], message: "is not a page cursor from this list", input: undefined },
  ]);
}

/** One page of sessions the principal may see, matching the filters, newest first. */
export async function querySessions(principal: Principal, filters: SessionFilters): Promise<SessionPage> {
  const db = await getDb();
  // The search indexer's watermark (search-index.ts): events above it are searched in session_events directly.
  const watermark = filters.q ? ((await searchWatermark(db)) ?? 0) : 0;
  const where = conditionsFor(
    principal,
    filters,
    filters.q ? await countTextMatches(db, filters.q, watermark) : "many",
    watermark,
  );
  const before = filters.before ? decodeCursor(filters.before, "before") : undefined;
  const after = filters.after ? decodeCursor(filters.after, "after") : undefined;
  // Row comparison over (started_at, id) walks the index from the cursor. The cursor keeps the start time
  // as the store prints it (microseconds), since a JavaScript Date would cut it to milliseconds.
  if (before)
    where.push(
      sql`(${sessions.startedAt}, ${sessions.id}) < (${before.startedAt}::timestamptz, ${before.id})`,
    );
  if (after)
    where.push(sql`(${sessions.startedAt}, ${sessions.id}) > (${after.startedAt}::timestamptz, ${after.id})`);
  const isNewerPage = Boolean(after) && !before;
  const query = db
    .select({ row: sessions, cursorAt: sql<string>`${sessions.startedAt}::text` })
    .from(sessions)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(
      ...(isNewerPage
        ? [asc(sessions.startedAt), asc(sessions.id)]
        : [desc(sessions.startedAt), desc(sessions.id)]),
    )
    .limit(SESSION_PAGE_SIZE + 1);
  const isKeyset = Boolean(before || after);
  const found = await (isKeyset ? query : query.offset((filters.page - 1) * SESSION_PAGE_SIZE));
  const isFull = found.length > SESSION_PAGE_SIZE;
  // Fewer than a page newer than the cursor: that is the first page.
  if (isNewerPage && !isFull) return querySessions(principal, { ...filters, after: undefined, page: 1 });
  const listed = found.slice(0, SESSION_PAGE_SIZE);
  if (isNewerPage) listed.reverse();
  const first = listed[0];
  const last = listed.at(-1);
  const hasOlder = isNewerPage ? listed.length > 0 : isFull;
  const hasNewer = isNewerPage ? isFull : Boolean(before) || filters.page > 1;
  const { clients, lost } = await sessionNotes(
    db,
    listed.map(({ row }) => row),
  );
  return {
    sessions: listed.map(({ row }) => {
      const isLost = lost.has(row.id);
      const end = row.endedAt ?? row.lastActivityAt;
      return {
        id: row.id,
        principalLabel: row.principalLabel,
        principalKind: row.principalKind,
        connectionName: row.connectionName,
        kind: row.kind,
        channel: row.channel,
        // Its process stopped: shown ended before a sweep records the end (sessions-liveness.ts).
        state: isLost ? "failed" : row.state,
        startedAt: row.startedAt.toISOString(),
        endedAt: row.endedAt?.toISOString() ?? null,
        lastActivityAt: row.lastActivityAt.toISOString(),
        durationMs: Math.max(0, end.getTime() - row.startedAt.getTime()),
        statements: row.statements,
        allowed: row.allowed,
        held: row.held,
        blocked: row.blocked,
        maskedFields: row.maskedFields,
        endReason: isLost ? LOST_SESSION_REASON : null,
        client: clients.get(row.id) ?? null,
      };
    }),
    page: filters.page,
    pageSize: SESSION_PAGE_SIZE,
    hasMore: hasOlder,
    nextCursor: hasOlder && last ? encodeCursor({ cursorAt: last.cursorAt, id: last.row.id }) : null,
    prevCursor: hasNewer && first ? encodeCursor({ cursorAt: first.cursorAt, id: first.row.id }) : null,
    isAllSessions: hasPermission(principal, "audit:read"),
  };
}
