import {
  deleteConnection,
  getConnectionForUse,
  updateConnection,
  updateConnectionSchema,
} from "@/server/connections";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  connection: await getConnectionForUse(principal, params.name ?? ""),
}));

export const PATCH = withAuth(
  { permission: "connections:manage", body: updateConnectionSchema },
  async ({ principal, params, body }) => {
    const existing = await getConnectionForUse(principal, params.name ?? "");
    return { connection: await updateConnection(actorOf(principal), existing.id, body) };
  },
);

export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const existing = await getConnectionForUse(principal, params.name ?? "");
  await deleteConnection(actorOf(principal), existing.id);
  return { ok: true };
});
