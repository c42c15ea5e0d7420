import { decideReview, decisionSchema } from "@/server/approvals";
import { withAuth } from "@/server/http/route";

export const POST = withAuth(
  { permission: "connections:use", body: decisionSchema },
  async ({ principal, params, body }) => ({
    review: await decideReview(principal, params.id ?? "", "deny", body.comment),
  }),
);
