import { createGroup, createGroupSchema, listGroups } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "users:manage" }, async () => ({ groups: await listGroups() }));

export const POST = withAuth(
  { permission: "users:manage", body: createGroupSchema },
  async ({ principal, body }) =>
    Response.json({ id: await createGroup(actorOf(principal), body) }, { status: 201 }),
);
