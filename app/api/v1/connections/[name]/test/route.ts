import { actorOf } from "@/server/auth";
import { getConnectionForUse, testConnection } from "@/server/connections";
import { withAuth } from "@/server/http/route";

export const POST = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const connection = await getConnectionForUse(principal, params.name ?? "");
  return { result: await testConnection(actorOf(principal), connection.id) };
});
