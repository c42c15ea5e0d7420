import { verifySessionFor } from "@/server/audit";
import { withAuth } from "@/server/http/route";

/** Checks the session's hash chain (the owner, or audit:read): {ok, events, head, firstBadSeq?, reason?}. */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) =>
  verifySessionFor(principal, params.id ?? ""),
);
