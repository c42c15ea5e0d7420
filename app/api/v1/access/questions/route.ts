import { askQuestion } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** An auditor's question over recorded sessions: `question=touched|unapproved-writes|approvals-by` and its parameters. */
export const GET = withAuth({ permission: "audit:read" }, async ({ principal, request }) =>
  askQuestion(principal, Object.fromEntries(new URL(request.url).searchParams)),
);
