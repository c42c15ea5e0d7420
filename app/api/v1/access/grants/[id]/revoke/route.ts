import { revokeGrant } from "@/server/grants";
import { withAuth } from "@/server/http/route";

export const POST = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  grant: await revokeGrant(principal, params.id ?? ""),
}));
