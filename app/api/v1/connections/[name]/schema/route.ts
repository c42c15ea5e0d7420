import { withAuth } from "@/server/http/route";
import { describeSchema } from "@/server/targets/catalog";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  tables: await describeSchema(principal, params.name ?? ""),
}));
