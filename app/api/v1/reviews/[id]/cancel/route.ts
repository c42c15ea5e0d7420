import { cancelReview } from "@/server/approvals";
import { withAuth } from "@/server/http/route";

export const POST = withAuth({ permission: "connections:use" }, async ({ principal, params }) => {
  await cancelReview(principal, params.id ?? "");
  return { ok: true };
});
