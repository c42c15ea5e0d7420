/**
 * Session recording: sessions and their append-only events (statements with decisions and masked results,
 * terminal output and input). What is written here has already passed masking; this module never sees
 * unmasked target data. Not responsible for replay or integrity proofs (they read what is written here).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import type { Principal } from "@/server/auth/principal";
import { GatewayError, notFound } from "@/server/errors";
import { chainHash, chainHashSql, sessionEventDigest } from "@/server/integrity";
import { rowsOf } from "./rows";

export interface SessionTarget {
  id: string;
  name: string;
}

function sessionRow(
  id: string,
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "terminal",
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
  channel: "editor" | "api" | "mcp" | "terminal",
): Promise<string> {
  const id = randomUUID();
  const db = await getDb();
  await db.insert(sessions).values(sessionRow(id, principal, connection, kind, channel));
  return id;
}

/**
 * Starts a session with its first event, in one statement (one round trip, atomic): the event is the first
 * link of the session's hash chain (prevHash "", seq 1), so its hash is computed here and the session row is
 * inserted holding it as the head, with the counters already advanced.
 */
export async function startSessionWithEvent(
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "terminal",
  event: { type: string; data: Record<string, unknown>; counters?: SessionCounters },
): Promise<{ sessionId: string; eventId: number }> {
  const id = randomUUID();
  const db = await getDb();
  const at = new Date();
  const json = JSON.stringify(event.data);
  const hash = chainHash(
    "",
    1,
    sessionEventDigest({ sessionId: id, type: event.type, at, data: JSON.parse(json) }),
  );
  const c = event.counters ?? {};
  const row = sessionRow(id, principal, connection, kind, channel);
  const rows = await db.execute<{ id: number | string }>(sql`
    with started as (
      insert into ${sessions} (id, principal_id, principal_label, principal_kind, connection_id, connection_name,
        kind, channel, started_at, last_activity_at, statements, allowed, held, blocked, masked_fields,
        event_seq, chain_head)
      values (${row.id}, ${row.principalId}, ${row.principalLabel}, ${row.principalKind}, ${row.connectionId},
        ${row.connectionName}, ${row.kind}, ${row.channel}, ${at.toISOString()}::timestamptz,
        ${at.toISOString()}::timestamptz, ${c.statements ?? 0}, ${c.allowed ?? 0}, ${c.held ?? 0},
        ${c.blocked ?? 0}, ${c.maskedFields ?? 0}, 1, ${hash})
      returning id
    )
    insert into ${sessionEvents} (session_id, seq, hash, at, type, data)
    select id, 1, ${hash}, ${at.toISOString()}::timestamptz, ${event.type}, ${json}::jsonb from started
    returning id`);
  const [inserted] = rowsOf<{ id: number | string }>(rows);
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
  const db = await getDb();
  const at = new Date();
  const json = JSON.stringify(data);
  const digest = sessionEventDigest({ sessionId, type, at, data: JSON.parse(json) });
  const rows = await db.execute<{ id: number | string }>(sql`
    with head as (
      update ${sessions} set
        last_activity_at = now(),
        statements = statements + ${counters.statements ?? 0},
        allowed = allowed + ${counters.allowed ?? 0},
        held = held + ${counters.held ?? 0},
        blocked = blocked + ${counters.blocked ?? 0},
        masked_fields = masked_fields + ${counters.maskedFields ?? 0},
        event_seq = event_seq + 1,
        chain_head = ${chainHashSql(sql`chain_head`, sql`event_seq + 1`, digest)}
      where id = ${sessionId}${
        resumeBy
          ? sql` and principal_id = ${resumeBy.principal.id} and connection_id = ${resumeBy.connectionId}
                 and state = 'live'`
          : sql``
      }
      returning event_seq, chain_head
    )
    insert into ${sessionEvents} (session_id, seq, hash, at, type, data)
    select ${sessionId}, event_seq, chain_head, ${at.toISOString()}::timestamptz, ${type}, ${json}::jsonb
    from head
    returning id`);
  const [row] = rowsOf<{ id: number | string }>(rows);
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

export { deleteExpiredSessions, type RetentionRun, startRetentionJob } from "./retention";
export {
  escapeLike,
  parseSessionFilters,
  querySessions,
  SESSION_PAGE_SIZE,
  type SessionFilters,
  type SessionPage,
  type SessionSummary,
} from "./sessions-query";
