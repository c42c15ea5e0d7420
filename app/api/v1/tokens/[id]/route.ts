import { actorOf, revokeToken } from "@/server/auth";
import { withAuth } from "@/server/http/route";

export const DELETE = withAuth({ permission: "tokens:manage" }, async ({ principal, params }) => {
  await revokeToken(actorOf(principal), params.id ?? "");
  return { ok: true };
});
