import { createUser, createUserSchema, listPeople } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "users:manage" }, async () => ({ users: await listPeople() }));

export const POST = withAuth(
  { permission: "users:manage", body: createUserSchema },
  async ({ principal, body }) =>
    Response.json({ id: await createUser(actorOf(principal), body) }, { status: 201 }),
);
