import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { revokeScimToken } from "@/server/scim";

export const DELETE = withAuth({ permission: "users:manage" }, async ({ principal, params }) => {
  await revokeScimToken(actorOf(principal), params.id ?? "");
  return { ok: true };
});
