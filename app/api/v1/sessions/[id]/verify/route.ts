import { verifySessionFor } from "@/server/audit";
import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

/** Checks the session's hash chain (the owner, or audit:read): {ok, events, head, firstBadSeq?, reason?}. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params }) =>
  verifySessionFor(principal, params.id ?? ""),
);
