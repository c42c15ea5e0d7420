import { deleteGroup } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const DELETE = withAuth({ permission: "users:manage" }, async ({ principal, params }) => {
  await deleteGroup(actorOf(principal), params.id ?? "");
  return { ok: true };
});
