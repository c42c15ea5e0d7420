import { createServiceAccount, createServiceAccountSchema, listServiceAccounts } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const GET = withAuth({ permission: "tokens:manage" }, async () => ({
  serviceAccounts: await listServiceAccounts(),
}));

export const POST = withAuth(
  { permission: "tokens:manage", body: createServiceAccountSchema },
  async ({ principal, body }) =>
    Response.json(await createServiceAccount(actorOf(principal), body, principal), { status: 201 }),
);
