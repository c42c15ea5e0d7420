/**
 * Verification of the stored hash chains: one session's events against the chain head on its session row,
 * and the whole audit log against the audit_chain head (read in pages, so a long log does not fill memory).
 * Reports the first place the chain breaks. Not responsible for access checks (callers do them).
 */
import "server-only";
import { asc, eq, gt } from "drizzle-orm";
import { auditChain, auditEvents, type SessionEvent, sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import {
  auditEventDigest,
  type ChainHead,
  type ChainVerification,
  ChainVerifier,
  sessionEventDigest,
  verifyChain,
} from "./hash-chain";

type StoredSessionEvent = Pick<SessionEvent, "id" | "sessionId" | "seq" | "hash" | "at" | "type" | "data">;

/** Verifies events already read (in id order) against the session's head. */
export function verifySessionEvents(
  session: { eventSeq: number; chainHead: string },
  events: StoredSessionEvent[],
): ChainVerification {
  return verifyChain(
    events.map((e) => ({ id: e.id, seq: e.seq, hash: e.hash, digest: sessionEventDigest(e) })),
    { seq: session.eventSeq, hash: session.chainHead },
  );
}

/** The session's chain verification, or undefined when there is no such session. */
export async function verifySession(sessionId: string): Promise<ChainVerification | undefined> {
  const db = await getDb();
  const [session] = await db
    .select({ eventSeq: sessions.eventSeq, chainHead: sessions.chainHead })
    .from(sessions)
    .where(eq(sessions.id, sessionId))
    .limit(1);
  if (!session) return undefined;
  const events = await db
    .select({
      id: sessionEvents.id,
      sessionId: sessionEvents.sessionId,
      seq: sessionEvents.seq,
      hash: sessionEvents.hash,
      at: sessionEvents.at,
      type: sessionEvents.type,
      data: sessionEvents.data,
    })
    .from(sessionEvents)
    .where(eq(sessionEvents.sessionId, sessionId))
    .orderBy(asc(sessionEvents.id));
  return verifySessionEvents(session, events);
}

const AUDIT_PAGE = 2000;

export async function auditChainHead(): Promise<ChainHead> {
  const db = await getDb();
  const [head] = await db.select().from(auditChain).where(eq(auditChain.id, 1)).limit(1);
  return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: "" };
}

/** Verifies the whole audit log, oldest first. */
export async function verifyAuditLog(): Promise<ChainVerification> {
  const db = await getDb();
  // The head first: events appended while the log is read come after it and are not part of this check.
  const head = await auditChainHead();
  const verifier = new ChainVerifier();
  let afterId = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(gt(auditEvents.id, afterId))
      .orderBy(asc(auditEvents.id))
      .limit(AUDIT_PAGE);
    for (const row of page) {
      if (row.seq !== null && row.seq > head.seq) return verifier.finish(head);
      verifier.add({ id: row.id, seq: row.seq, hash: row.hash, digest: auditEventDigest(row) });
    }
    const last = page.at(-1);
    if (!last || page.length < AUDIT_PAGE || verifier.isBroken) break;
    afterId = last.id;
  }
  return verifier.finish(head);
}
