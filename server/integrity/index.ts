/**
 * Integrity of what is recorded: hash chains over session events and the audit log, and their verification.
 * Appends (server/recording, server/audit) use the digest and the SQL chaining step from here.
 */
import "server-only";

export { type BundleVerification, verifyEvidenceBundle } from "./bundle";
export {
  auditEventDigest,
  type ChainHead,
  type ChainVerification,
  ChainVerifier,
  canonicalJson,
  chainHash,
  chainHashSql,
  chainHashSqlText,
  HASH_ALGORITHM,
  sessionEventDigest,
  sessionEventDigestOf,
} from "./hash-chain";
export {
  auditChainHead,
  auditHashAt,
  readSessionChain,
  verifyAuditLog,
  verifySession,
  verifySessionEvents,
} from "./verify";
