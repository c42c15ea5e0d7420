import { getConnectionForUse, testConnection } from "@/server/connections";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const connection = await getConnectionForUse(principal, params.name ?? "");
  return { result: await testConnection(actorOf(principal), connection.id) };
});
