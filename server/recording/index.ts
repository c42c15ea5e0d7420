/**
 * Session recording: sessions and their append-only events (statements with decisions and masked results,
 * terminal output and input). What is written here has already passed masking; this module never sees
 * unmasked target data. Not responsible for replay or integrity proofs (they read what is written here).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, inArray, isNull, lte, or } from "drizzle-orm";
import { type PreparedStatement, runPrepared } from "@/db/prepared";
import { type SessionEvent, sessionEvents, sessions } from "@/db/schema";
import { getDb, getStore } from "@/db/store";
import { GatewayError, notFound } from "@/server/errors";
import { chainHash, chainHashSqlText, sessionEventDigest } from "@/server/integrity";
import { hasPermission, type Principal } from "@/server/principal";

export interface SessionTarget {
  id: string;
  name: string;
}

function sessionRow(
  id: string,
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
) {
  return {
    id,
    principalId: principal.id,
    principalLabel: principal.kind === "service" ? `service:${principal.name}` : principal.email,
    principalKind: principal.kind,
    connectionId: connection.id,
    connectionName: connection.name,
    kind,
    channel,
  };
}

export async function startSession(
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
): Promise<string> {
  const id = randomUUID();
  const db = await getDb();
  await db.insert(sessions).values(sessionRow(id, principal, connection, kind, channel));
  return id;
}

/** The session's first event with the session row (see startSessionWithEvent). */
const repeat = (type: string, n: number): string[] => Array.from({ length: n }, () => type);

const START_WITH_EVENT: PreparedStatement = {
  name: "portcullis_start_session_v1",
  // id, principal id/label/kind, connection id/name, kind, channel; at; five counters; hash, type; data
  types: [...repeat("text", 8), "timestamptz", ...repeat("int", 5), "text", "text", "jsonb"],
  text: `with started as (
      insert into sessions (id, principal_id, principal_label, principal_kind, connection_id, connection_name,
        kind, channel, started_at, last_activity_at, statements, allowed, held, blocked, masked_fields,
        event_seq, chain_head)
      values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::timestamptz,
        $9::timestamptz, $10::int, $11::int, $12::int, $13::int, $14::int, 1, $15::text)
      returning id
    )
    insert into session_events (session_id, seq, hash, at, type, data)
    select id, 1, $15::text, $9::timestamptz, $16::text, $17::jsonb from started
    returning id`,
};

/** One event appended to a session's chain, its counters advanced (see appendSessionEvent). */
function appendStatement(name: string, guard: string): PreparedStatement {
  return {
    name,
    // session id; five counters; digest, at, type, data; then principal and connection for a resumed session
    types: [
      "text",
      ...repeat("int", 5),
      "text",
      "timestamptz",
      "text",
      "jsonb",
      ...(guard ? repeat("text", 2) : []),
    ],
    text: `with head as (
      update sessions set
        last_activity_at = now(),
        statements = statements + $2::int,
        allowed = allowed + $3::int,
        held = held + $4::int,
        blocked = blocked + $5::int,
        masked_fields = masked_fields + $6::int,
        event_seq = event_seq + 1,
        chain_head = ${chainHashSqlText("chain_head", "event_seq + 1", "$7::text")}
      where id = $1::text${guard}
      returning event_seq, chain_head
    )
    insert into session_events (session_id, seq, hash, at, type, data)
    select $1::text, event_seq, chain_head, $8::timestamptz, $9::text, $10::jsonb from head
    returning id`,
  };
}
const APPEND_EVENT = appendStatement("portcullis_append_event_v1", "");
const APPEND_EVENT_RESUMED = appendStatement(
  "portcullis_append_resumed_event_v1",
  " and principal_id = $11::text and connection_id = $12::text and state = 'live'",
);

/**
 * Starts a session with its first event, in one statement (one round trip, atomic): the event is the first
 * link of the session's hash chain (prevHash "", seq 1), so its hash is computed here and the session row is
 * inserted holding it as the head, with the counters already advanced.
 */
export async function startSessionWithEvent(
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
  event: { type: string; data: Record<string, unknown>; counters?: SessionCounters },
): Promise<{ sessionId: string; eventId: number }> {
  const id = randomUUID();
  const at = new Date();
  const json = JSON.stringify(event.data);
  const hash = chainHash(
    "",
    1,
    sessionEventDigest({ sessionId: id, type: event.type, at, data: JSON.parse(json) }),
  );
  const c = event.counters ?? {};
  const row = sessionRow(id, principal, connection, kind, channel);
  const rows = await runPrepared<{ id: number | string }>(await getStore(), START_WITH_EVENT, [
    row.id,
    row.principalId,
    row.principalLabel,
    row.principalKind,
    row.connectionId,
    row.connectionName,
    row.kind,
    row.channel,
    at.toISOString(),
    c.statements ?? 0,
    c.allowed ?? 0,
    c.held ?? 0,
    c.blocked ?? 0,
    c.maskedFields ?? 0,
    hash,
    event.type,
    json,
  ]);
  const [inserted] = rows;
  if (!inserted) throw new Error("cannot record the session's first event");
  return { sessionId: id, eventId: Number(inserted.id) };
}

/** Why `principal` may not append to `sessionId` on `connectionId` (a GatewayError), or undefined if they may. */
async function refuseResume(principal: Principal, sessionId: string, connectionId: string) {
  const db = await getDb();
  const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!row || row.principalId !== principal.id) return notFound("no such session");
  if (row.connectionId !== connectionId)
    return new GatewayError("bad_request", "that session belongs to another connection");
  if (row.state !== "live") return new GatewayError("bad_request", "that session has ended; start a new one");
  return undefined;
}

/** A session the principal may append to: their own, live, on this connection. */
export async function resumeSession(
  principal: Principal,
  sessionId: string,
  connectionId: string,
): Promise<string> {
  const refused = await refuseResume(principal, sessionId, connectionId);
  if (refused) throw refused;
  return sessionId;
}

export interface SessionCounters {
  statements?: number;
  allowed?: number;
  held?: number;
  blocked?: number;
  maskedFields?: number;
}

/**
 * Appends one event and advances the session's counters, in one statement (one round trip, atomic). The event
 * takes the next place in the session's hash chain: the session row holds the chain head, and updating it
 * first serializes concurrent appends to one session (a second writer waits for the row and then sees the new
 * head), so the chain cannot fork. The time is set here, in milliseconds, so the hashed time is the stored one.
 */
export async function appendSessionEvent(
  sessionId: string,
  type: string,
  data: Record<string, unknown>,
  counters: SessionCounters = {},
  /** append only when the session is this principal's, live, on this connection (else the reason is thrown) */
  resumeBy?: { principal: Principal; connectionId: string },
): Promise<number> {
  const at = new Date();
  const json = JSON.stringify(data);
  const digest = sessionEventDigest({ sessionId, type, at, data: JSON.parse(json) });
  const values = [
    sessionId,
    counters.statements ?? 0,
    counters.allowed ?? 0,
    counters.held ?? 0,
    counters.blocked ?? 0,
    counters.maskedFields ?? 0,
    digest,
    at.toISOString(),
    type,
    json,
  ];
  const rows = await runPrepared<{ id: number | string }>(
    await getStore(),
    resumeBy ? APPEND_EVENT_RESUMED : APPEND_EVENT,
    resumeBy ? [...values, resumeBy.principal.id, resumeBy.connectionId] : values,
  );
  const [row] = rows;
  if (!row && resumeBy) {
    const refused = await refuseResume(resumeBy.principal, sessionId, resumeBy.connectionId);
    if (refused) throw refused;
  }
  if (!row) throw new Error(`cannot record an event: session ${sessionId} does not exist`);
  return Number(row.id);
}

export async function endSession(sessionId: string, state: "ended" | "failed" = "ended") {
  const db = await getDb();
  await db.update(sessions).set({ state, endedAt: new Date() }).where(eq(sessions.id, sessionId));
}

/** The principal's recent statements on a connection, newest first, with their outcome (the editor's history). */
export async function listStatementHistory(principal: Principal, connectionId: string, limit = 100) {
  const db = await getDb();
  const statements = await db
    .select({
      id: sessionEvents.id,
      sessionId: sessionEvents.sessionId,
      at: sessionEvents.at,
      data: sessionEvents.data,
    })
    .from(sessionEvents)
    .innerJoin(sessions, eq(sessions.id, sessionEvents.sessionId))
    .where(
      and(
        eq(sessions.principalId, principal.id),
        eq(sessions.connectionId, connectionId),
        eq(sessionEvents.type, "statement"),
      ),
    )
    .orderBy(desc(sessionEvents.id))
    .limit(limit);
  const sessionIds = [...new Set(statements.map((s) => s.sessionId))];
  const outcomes = new Map<number, Record<string, unknown>>();
  if (sessionIds.length > 0) {
    const results = await db
      .select({ data: sessionEvents.data })
      .from(sessionEvents)
      .where(and(inArray(sessionEvents.sessionId, sessionIds), eq(sessionEvents.type, "result")));
    for (const r of results) outcomes.set(Number(r.data.statementEventId), r.data);
  }
  return statements.map((s) => {
    const outcome = outcomes.get(s.id);
    return {
      at: s.at.toISOString(),
      statement: String(s.data.input ?? ""),
      decision: String(s.data.decision ?? ""),
      status: String(outcome?.status ?? s.data.status ?? ""),
      rowCount: typeof outcome?.rowCount === "number" ? outcome.rowCount : null,
      durationMs: typeof outcome?.durationMs === "number" ? outcome.durationMs : null,
    };
  });
}

export async function getSessionWithEvents(sessionId: string) {
  const db = await getDb();
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!session) return undefined;
  const events = await db
    .select()
    .from(sessionEvents)
    .where(eq(sessionEvents.sessionId, sessionId))
    .orderBy(sessionEvents.id);
  return { session, events };
}

/**
 * The session row when `principal` may see it (their own, or audit:read); otherwise the same 404 as for none, so
 * a member cannot learn that someone else's session exists.
 */
export async function visibleSession(principal: Principal, sessionId: string) {
  const db = await getDb();
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!session || (session.principalId !== principal.id && !hasPermission(principal, "audit:read"))) {
    throw notFound("no such session");
  }
  return session;
}

export interface EventPageOptions {
  /** events after this id (0: from the start) */
  after?: number;
  limit: number;
  /** only these types (a terminal export does not need keyframes) */
  types?: string[];
  /** only events up to this place in the chain (and any from before chaining): a session head read first */
  upToSeq?: number;
}

/** One page of a session's events in append order. */
export async function sessionEventPage(
  sessionId: string,
  options: EventPageOptions,
): Promise<SessionEvent[]> {
  const db = await getDb();
  return db
    .select()
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        gt(sessionEvents.id, options.after ?? 0),
        ...(options.types ? [inArray(sessionEvents.type, options.types)] : []),
        ...(options.upToSeq !== undefined
          ? [or(isNull(sessionEvents.seq), lte(sessionEvents.seq, options.upToSeq))]
          : []),
      ),
    )
    .orderBy(sessionEvents.id)
    .limit(options.limit);
}

/** A session's events in append order, read a page at a time (so a long recording is never all in memory). */
export async function* readSessionEvents(
  sessionId: string,
  options: Omit<EventPageOptions, "after" | "limit"> & { pageSize?: number } = {},
): AsyncGenerator<SessionEvent> {
  const { pageSize = 500, ...filter } = options;
  let after = 0;
  for (;;) {
    const page = await sessionEventPage(sessionId, { ...filter, after, limit: pageSize });
    for (const event of page) yield event;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
  }
}

export {
  escapeLike,
  parseFilterTime,
  parseSessionFilters,
  querySessions,
  SESSION_PAGE_SIZE,
  type SessionFilters,
  type SessionPage,
  type SessionSummary,
} from "./sessions-query";
