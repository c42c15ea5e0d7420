/**
 * Verification of the stored hash chains: one session's events against the chain head on its session row,
 * and the whole audit log against the audit_chain head (read in pages, so a long log does not fill memory).
 * Reports the first place the chain breaks. Not responsible for access checks (callers do them).
 */
import "server-only";
import { asc, eq, gt } from "drizzle-orm";
import { auditChain, auditEvents, type SessionEvent, sessionEvents, sessions } from "@/db/schema";
import { type Db, getDb } from "@/db/store";
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

/**
 * Reads run in one read-only REPEATABLE READ transaction: the head and the events come from one snapshot, so
 * events appended to a live session while it is checked are either wholly in (event and head) or wholly out.
 */
const SNAPSHOT = { isolationLevel: "repeatable read", accessMode: "read only" } as const;

/** A session row, its events in order, and their verification, read from one snapshot. */
export async function readSessionChain(sessionId: string) {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const [session] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
    if (!session) return undefined;
    const events = await tx
      .select()
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, sessionId))
      .orderBy(asc(sessionEvents.id));
    return { session, events, verification: verifySessionEvents(session, events) };
  }, SNAPSHOT);
}

/** The session's chain verification, or undefined when there is no such session. */
export async function verifySession(sessionId: string): Promise<ChainVerification | undefined> {
  return (await readSessionChain(sessionId))?.verification;
}

const AUDIT_PAGE = 2000;

/** The stored hash of the audit event at `seq` (undefined when there is none). */
export async function auditHashAt(seq: number): Promise<string | undefined> {
  const db = await getDb();
  const [row] = await db
    .select({ hash: auditEvents.hash })
    .from(auditEvents)
    .where(eq(auditEvents.seq, seq))
    .limit(1);
  return row?.hash ?? undefined;
}

export async function auditChainHead(): Promise<ChainHead> {
  const db = await getDb();
  return readAuditHead(db);
}

async function readAuditHead(db: Pick<Db, "select">): Promise<ChainHead> {
  const [head] = await db.select().from(auditChain).where(eq(auditChain.id, 1)).limit(1);
  return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: "" };
}

/** Verifies the whole audit log, oldest first, in pages, from one snapshot. */
export async function verifyAuditLog(): Promise<ChainVerification> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const head = await readAuditHead(tx);
    const verifier = new ChainVerifier();
    let afterId = 0;
    for (;;) {
      const page = await tx
        .select()
        .from(auditEvents)
        .where(gt(auditEvents.id, afterId))
        .orderBy(asc(auditEvents.id))
        .limit(AUDIT_PAGE);
      for (const row of page) {
        verifier.add({ id: row.id, seq: row.seq, hash: row.hash, digest: auditEventDigest(row) });
      }
      const last = page.at(-1);
      if (!last || page.length < AUDIT_PAGE || verifier.isBroken) break;
      afterId = last.id;
    }
    return verifier.finish(head);
  }, SNAPSHOT);
}
