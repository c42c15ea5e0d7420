import { getConnectionForUse, resetHostKey, trustHostKey, trustHostKeySchema } from "@/server/connections";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

/** Trusts the host key the server offers now (the admin confirms its fingerprint). */
export const POST = withAuth(
  { permission: "connections:manage", body: trustHostKeySchema },
  async ({ principal, params, body }) => {
    const existing = await getConnectionForUse(principal, params.name ?? "");
    return { connection: await trustHostKey(actorOf(principal), existing.id, body.fingerprint) };
  },
);

/** Forgets the pinned host key; the next session or test pins it again. */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const existing = await getConnectionForUse(principal, params.name ?? "");
  return { connection: await resetHostKey(actorOf(principal), existing.id) };
});
