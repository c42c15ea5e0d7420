import { deleteUser, updateUser, updateUserSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const PATCH = withAuth(
  { permission: "users:manage", body: updateUserSchema },
  async ({ principal, params, body }) => {
    await updateUser(actorOf(principal), params.id ?? "", body);
    return { ok: true };
  },
);

export const DELETE = withAuth({ permission: "users:manage" }, async ({ principal, params }) => {
  await deleteUser(actorOf(principal), params.id ?? "");
  return { ok: true };
});
