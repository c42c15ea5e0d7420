/**
 * The audit log: who changed what (sign-ins, users, groups, connections, policies, reviews, tokens, retention).
 * Append-only and hash-chained: every event is written by recordAuditEvent. Also the log's search and export,
 * and the evidence bundle of a session. Session recording of target traffic is a separate concern
 * (server/recording).
 */
import "server-only";
import { desc, sql } from "drizzle-orm";
import { auditChain, auditEvents } from "@/db/schema";
import { getDb } from "@/db/store";
import { auditEventDigest, chainHashSql } from "@/server/integrity";
import { invalidateStoreCaches } from "@/server/store-cache";

export interface Actor {
  id: string | null;
  label: string;
}

export const SYSTEM_ACTOR: Actor = { id: null, label: "system" };

/**
 * The one way an audit event is written. In one statement it advances the audit log's chain head (the single
 * audit_chain row, created by the first append) and inserts the event with that seq and hash, so concurrent
 * appends, from this process or another replica, queue on the head row and the chain cannot fork.
 */
export async function recordAuditEvent(
  actor: Actor,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  const db = await getDb();
  const at = new Date();
  const json = JSON.stringify(details);
  const digest = auditEventDigest({
    at,
    actorId: actor.id,
    actorLabel: actor.label,
    action,
    target,
    details: JSON.parse(json),
  });
  await db.execute(sql`
    with head as (
      insert into ${auditChain} (id, seq, hash)
      values (1, 1, ${chainHashSql(sql`''`, sql`1`, digest)})
      on conflict (id) do update set
        seq = ${auditChain}.seq + 1,
        hash = ${chainHashSql(sql`${auditChain}.hash`, sql`${auditChain}.seq + 1`, digest)}
      returning seq, hash
    )
    insert into ${auditEvents} (at, actor_id, actor_label, action, target, details, seq, hash)
    select ${at.toISOString()}::timestamptz, ${actor.id}, ${actor.label}, ${action}, ${target}, ${json}::jsonb,
      seq, hash
    from head`);
  // Every audited change is a change to who may do what (users, groups, tokens, connections, rules, masking,
  // grants): the request caches (server/store-cache.ts) must not serve what it replaced.
  await invalidateStoreCaches();
}

/** The newest audit events, unfiltered (tests and the command line; the page uses queryAuditEvents). */
export async function listAuditEvents(limit = 200) {
  const db = await getDb();
  return db.select().from(auditEvents).orderBy(desc(auditEvents.id)).limit(limit);
}

export {
  AUDIT_KINDS,
  AUDIT_PAGE_SIZE,
  type AuditEventView,
  type AuditFilters,
  type AuditKind,
  type AuditPage,
  exportAuditEvents,
  parseAuditFilters,
  queryAuditEvents,
} from "./audit-query";
export { streamEvidenceBundle, verifySessionFor } from "./evidence";
export {
  parseLimit,
  parseStreamCursor,
  readAuditStream,
  SESSION_EVENT_SETTLE_MS,
  STREAM_MAX_LIMIT,
  type StreamCursor,
  type StreamLine,
  streamCursorText,
} from "./stream";
