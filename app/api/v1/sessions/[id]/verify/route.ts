import { verifySessionFor } from "@/server/audit";
import { MEMBER_OR_AUDITOR_READ } from "@/server/auth";
import { withAuth } from "@/server/http/route";

/** Checks the session's hash chain (the owner, or audit:read): {ok, events, head, firstBadSeq?, reason?}. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params }) =>
  verifySessionFor(principal, params.id ?? ""),
);
