import { revokeToken } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const DELETE = withAuth({ permission: "tokens:manage" }, async ({ principal, params }) => {
  await revokeToken(actorOf(principal), params.id ?? "");
  return { ok: true };
});
