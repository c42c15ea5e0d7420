/**
 * The evidence bundle for one session: the session, its events with their hashes, the audit events that
 * concern it (its reviews and their decisions, an admin ending it), and the integrity proof (the algorithm,
 * the session's chain head and verification, the audit log's head and verification), in one JSON document
 * that can be handed over and re-checked offline. Access: the session's owner, or audit:read.
 */
import "server-only";
import { eq } from "drizzle-orm";
import { reviews } from "@/db/schema";
import { getDb } from "@/db/store";
import { notFound } from "@/server/errors";
import { chunked, indentedJson, indentedJsonArray } from "@/server/http/file-pieces";
import {
  ChainVerifier,
  HASH_ALGORITHM,
  sessionEventDigest,
  verifyAuditLog,
  verifySession,
} from "@/server/integrity";
import type { Principal } from "@/server/principal";
import { readSessionEvents, visibleSession } from "@/server/recording";
import { listSessionAuditEvents } from "./audit-query";

export const EVIDENCE_FORMAT = "portcullis-evidence/1";

/**
 * The bundle as a file written a piece at a time: what JSON.stringify(bundle, null, 2) writes, with the events
 * read a page at a time and verified as they are written (so the proof is about the events in the file). The
 * events are those up to the session's head as read first: an append made meanwhile is wholly out (the head
 * and the event are written in one statement). The audit parts are read before the first piece, so a failure
 * there is an error response, not a cut file.
 */
export async function streamEvidenceBundle(principal: Principal, sessionId: string) {
  const session = await visibleSession(principal, sessionId);
  const db = await getDb();
  const reviewIds = (
    await db.select({ id: reviews.id }).from(reviews).where(eq(reviews.sessionId, sessionId))
  ).map((r) => r.id);
  const auditEvents = await listSessionAuditEvents(sessionId, reviewIds);
  const auditLog = await verifyAuditLog();
  const { eventSeq, chainHead, ...sessionFields } = session;
  const head = { seq: eventSeq, hash: chainHead };
  const opening = {
    format: EVIDENCE_FORMAT,
    generatedAt: new Date().toISOString(),
    generatedBy: principal.kind === "service" ? `service:${principal.name}` : principal.email,
    session: sessionFields,
  };
  const verifier = new ChainVerifier();
  // The events as written, each added to the verification on its way out.
  async function* events() {
    for await (const e of readSessionEvents(sessionId, { upToSeq: eventSeq })) {
      verifier.add({ id: e.id, seq: e.seq, hash: e.hash, digest: sessionEventDigest(e) });
      yield { id: e.id, seq: e.seq, at: e.at.toISOString(), type: e.type, data: e.data, hash: e.hash };
    }
  }
  async function* pieces(): AsyncGenerator<string> {
    yield `${indentedJson(opening, 0).slice(0, -2)},\n  "events": `;
    yield* indentedJsonArray(events(), 1);
    const integrity = {
      algorithm: HASH_ALGORITHM,
      session: { head, verification: verifier.finish(head) },
      auditLog,
    };
    yield `,\n  "auditEvents": ${indentedJson(auditEvents, 1)},\n  "integrity": ${indentedJson(integrity, 1)}\n}`;
  }
  return {
    filename: `evidence-${session.connectionName}-${session.id}.json`,
    body: chunked(pieces()),
  };
}

/** The session's chain verification for the principal (their own session, or audit:read). */
export async function verifySessionFor(principal: Principal, sessionId: string) {
  const session = await visibleSession(principal, sessionId);
  const verification = await verifySession(session.id);
  if (!verification) throw notFound("no such session");
  return verification;
}
