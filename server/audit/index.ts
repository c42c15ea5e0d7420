/**
 * The audit log: who changed what (sign-ins, users, groups, connections, policies, reviews, tokens, retention).
 * Append-only and hash-chained: every event is written by recordAuditEvent. Also the log's search and export,
 * and the evidence bundle of a session. Session recording of target traffic is a separate concern
 * (server/recording).
 */
import "server-only";

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
export {
  type AuditCheckpoint,
  type SendCheckpoint,
  sendAuditCheckpoint,
  startAuditCheckpoints,
} from "./checkpoint";
export { streamEvidenceBundle, verifySessionFor } from "./evidence";
export { AUDIT_BATCH_LINES, type AuditWebhooks, forwardAuditStream, startAuditForwarding } from "./forward";
export { type Actor, listAuditEvents, recordAuditEvent, SYSTEM_ACTOR } from "./log";
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
