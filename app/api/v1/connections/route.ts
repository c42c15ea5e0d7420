import { createConnection, createConnectionSchema, listConnections } from "@/server/connections";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal }) => ({
  connections: await listConnections(principal),
}));

export const POST = withAuth(
  { permission: "connections:manage", body: createConnectionSchema },
  async ({ principal, body }) =>
    Response.json({ connection: await createConnection(actorOf(principal), body) }, { status: 201 }),
);
