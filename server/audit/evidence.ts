/**
 * The evidence bundle for one session: the session, its events with their hashes, the audit events that
 * concern it (its reviews and their decisions, an admin ending it), and the integrity proof (the algorithm,
 * the session's chain head and verification, the audit log's head and verification), in one JSON document
 * that can be handed over and re-checked offline. Access: the session's owner, or audit:read.
 */
import "server-only";
import { eq } from "drizzle-orm";
import { reviews, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { hasPermission, type Principal } from "@/server/auth/principal";
import { notFound } from "@/server/errors";
import { HASH_ALGORITHM, readSessionChain, verifyAuditLog, verifySession } from "@/server/integrity";
import { listSessionAuditEvents } from "./audit-query";

export const EVIDENCE_FORMAT = "portcullis-evidence/1";

/** The session row when the principal may see it (their own, or audit:read); otherwise not found. */
async function visibleSession(principal: Principal, sessionId: string) {
  const db = await getDb();
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!session || (session.principalId !== principal.id && !hasPermission(principal, "audit:read"))) {
    throw notFound("no such session");
  }
  return session;
}

export async function buildEvidenceBundle(principal: Principal, sessionId: string) {
  await visibleSession(principal, sessionId);
  const chain = await readSessionChain(sessionId);
  if (!chain) throw notFound("no such session");
  const { session, events, verification } = chain;
  const db = await getDb();
  const reviewIds = (
    await db.select({ id: reviews.id }).from(reviews).where(eq(reviews.sessionId, sessionId))
  ).map((r) => r.id);
  const { eventSeq, chainHead, ...sessionFields } = session;
  return {
    format: EVIDENCE_FORMAT,
    generatedAt: new Date().toISOString(),
    generatedBy: principal.kind === "service" ? `service:${principal.name}` : principal.email,
    session: sessionFields,
    events: events.map((e) => ({
      id: e.id,
      seq: e.seq,
      at: e.at.toISOString(),
      type: e.type,
      data: e.data,
      hash: e.hash,
    })),
    auditEvents: await listSessionAuditEvents(sessionId, reviewIds),
    integrity: {
      algorithm: HASH_ALGORITHM,
      session: { head: { seq: eventSeq, hash: chainHead }, verification },
      auditLog: await verifyAuditLog(),
    },
  };
}

export type EvidenceBundle = Awaited<ReturnType<typeof buildEvidenceBundle>>;

/** The session's chain verification for the principal (their own session, or audit:read). */
export async function verifySessionFor(principal: Principal, sessionId: string) {
  const session = await visibleSession(principal, sessionId);
  const verification = await verifySession(session.id);
  if (!verification) throw notFound("no such session");
  return verification;
}
