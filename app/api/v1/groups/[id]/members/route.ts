import { z } from "zod";
import { actorOf, addGroupMember, removeGroupMember } from "@/server/auth";
import { withAuth } from "@/server/http/route";

const memberSchema = z.object({ userId: z.string().min(1, "userId is required") });

export const POST = withAuth(
  { permission: "users:manage", body: memberSchema },
  async ({ principal, params, body }) => {
    await addGroupMember(actorOf(principal), params.id ?? "", body.userId);
    return { ok: true };
  },
);

export const DELETE = withAuth(
  { permission: "users:manage", body: memberSchema },
  async ({ principal, params, body }) => {
    await removeGroupMember(actorOf(principal), params.id ?? "", body.userId);
    return { ok: true };
  },
);
