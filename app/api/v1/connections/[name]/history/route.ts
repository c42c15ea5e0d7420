import { getConnectionForUse } from "@/server/connections";
import { withAuth } from "@/server/http/route";
import { listStatementHistory } from "@/server/recording";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => {
  const connection = await getConnectionForUse(principal, params.name ?? "");
  return { items: await listStatementHistory(principal, connection.id) };
});
