import { addGroupMember, groupMemberSchema, removeGroupMember } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth(
  { permission: "users:manage", body: groupMemberSchema },
  async ({ principal, params, body }) => {
    await addGroupMember(actorOf(principal), params.id ?? "", body.userId);
    return { ok: true };
  },
);

export const DELETE = withAuth(
  { permission: "users:manage", body: groupMemberSchema },
  async ({ principal, params, body }) => {
    await removeGroupMember(actorOf(principal), params.id ?? "", body.userId);
    return { ok: true };
  },
);
