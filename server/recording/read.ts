/**
 * Reading recordings back: one session with its events, a page of events or all of them a page at a time,
 * the editor's statement history, and whether a principal may see a session. Not responsible for writing
 * (append.ts) nor for verifying chains (server/integrity).
 */
import "server-only";
import { and, desc, eq, gt, inArray, isNull, lte, or } from "drizzle-orm";
import { type SessionEvent, sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { notFound } from "@/server/errors";
import { hasPermission, type Principal } from "@/server/principal";

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
