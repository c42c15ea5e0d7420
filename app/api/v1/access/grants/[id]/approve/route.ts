import { decisionSchema } from "@/server/approvals";
import { decideGrant } from "@/server/grants";
import { withAuth } from "@/server/http/route";

export const POST = withAuth(
  { permission: "connections:use", body: decisionSchema },
  async ({ principal, params, body }) => ({
    grant: await decideGrant(principal, params.id ?? "", "approve", body.comment),
  }),
);
