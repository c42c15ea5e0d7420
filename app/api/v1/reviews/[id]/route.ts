import { getReview } from "@/server/approvals";
import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  review: await getReview(principal, params.id ?? ""),
}));
