// Revokes a client secret; the access tokens minted with it stop working at once.
import { revokeClientSecret } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const DELETE = withAuth({ permission: "tokens:manage" }, async ({ principal, params }) => {
  await revokeClientSecret(actorOf(principal), params.id ?? "", params.secretId ?? "");
  return { ok: true };
});
