import { withAuth } from "@/server/http/route";
import { cancelRun } from "@/server/targets/runs";

export const POST = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  cancelled: cancelRun(params.id ?? "", principal.id),
}));
