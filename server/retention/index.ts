/**
 * Retention: recordings older than RETENTION_DAYS are deleted, and each deletion is audited. Its own folder
 * because it acts on two others: it reads and deletes server/recording's sessions and writes server/audit's
 * log, while the audit folder reads recordings (the evidence bundle), so living in either made a cycle.
 */
import "server-only";

export { deleteExpiredSessions, type RetentionRun, startRetentionJob } from "./delete-expired";
