import { withAuth } from "@/server/http/route";
import { verifyAuditLog } from "@/server/integrity";

/** Checks the audit log's hash chain: {ok, events, unchained, head, firstBadSeq?, firstBadId?, reason?}. */
export const GET = withAuth({ permission: "audit:read" }, async () => verifyAuditLog());
