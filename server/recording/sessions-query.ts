/**
 * The sessions list: one page (50, newest first) of sessions matching filters a person can put in a URL
 * (who, connection, kind, channel, time range, held/blocked, text in statements and commands, a column a
 * result touched), with each session's counters, duration and state. Scope follows the caller: their own
 * sessions, or every session with audit:read. Not responsible for one session's events (getSessionWithEvents).
 */
import "server-only";
import { and, desc, eq, gt, gte, ilike, lt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { hasPermission, type Principal } from "@/server/auth/principal";

export const SESSION_PAGE_SIZE = 50;

const text = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((v) => (v ? v : undefined));

/** Filters as they arrive in a query string; empty fields mean "any". */
export const sessionFiltersSchema = z.object({
  user: text,
  connection: text,
  kind: z
    .enum(["sql", "terminal", ""])
    .optional()
    .transform((v) => v || undefined),
  channel: z
    .enum(["editor", "api", "mcp", "terminal", ""])
    .optional()
    .transform((v) => v || undefined),
  /** "YYYY-MM-DD" or an ISO date-time; times without a zone are UTC */
  from: text,
  to: text,
  decision: z
    .enum(["held", "blocked", ""])
    .optional()
    .transform((v) => v || undefined),
  /** text in a statement or command line */
  q: text,
  /** a column name a recorded result had */
  column: text,
  page: z.coerce.number().int().min(1).max(10_000).optional().default(1),
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
  channel: "editor" | "api" | "mcp" | "terminal";
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
}

export interface SessionPage {
  sessions: SessionSummary[];
  page: number;
  pageSize: number;
  hasMore: boolean;
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

function conditionsFor(principal: Principal, filters: SessionFilters): SQL[] {
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
    where.push(sql`exists (
      select 1 from session_events e
      where e.session_id = ${sessions.id}
        and ((e.type = 'statement' and e.data->>'input' ilike ${pattern})
          or (e.type = 'command' and e.data->>'command' ilike ${pattern})))`);
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

/** One page of sessions the principal may see, matching the filters, newest first. */
export async function querySessions(principal: Principal, filters: SessionFilters): Promise<SessionPage> {
  const db = await getDb();
  const where = conditionsFor(principal, filters);
  const rows = await db
    .select()
    .from(sessions)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(sessions.startedAt), desc(sessions.id))
    .limit(SESSION_PAGE_SIZE + 1)
    .offset((filters.page - 1) * SESSION_PAGE_SIZE);
  return {
    sessions: rows.slice(0, SESSION_PAGE_SIZE).map((row) => {
      const end = row.endedAt ?? row.lastActivityAt;
      return {
        id: row.id,
        principalLabel: row.principalLabel,
        principalKind: row.principalKind,
        connectionName: row.connectionName,
        kind: row.kind,
        channel: row.channel,
        state: row.state,
        startedAt: row.startedAt.toISOString(),
        endedAt: row.endedAt?.toISOString() ?? null,
        lastActivityAt: row.lastActivityAt.toISOString(),
        durationMs: Math.max(0, end.getTime() - row.startedAt.getTime()),
        statements: row.statements,
        allowed: row.allowed,
        held: row.held,
        blocked: row.blocked,
        maskedFields: row.maskedFields,
      };
    }),
    page: filters.page,
    pageSize: SESSION_PAGE_SIZE,
    hasMore: rows.length > SESSION_PAGE_SIZE,
    isAllSessions: hasPermission(principal, "audit:read"),
  };
}
