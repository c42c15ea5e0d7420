import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { createScimToken, createScimTokenSchema, listScimTokens } from "@/server/scim";

export const GET = withAuth({ permission: "users:manage" }, async () => ({ tokens: await listScimTokens() }));

/** Mints a token for the identity provider's SCIM client; the token is in this reply only. */
export const POST = withAuth(
  { permission: "users:manage", body: createScimTokenSchema },
  async ({ principal, body }) =>
    Response.json(await createScimToken(actorOf(principal), body), { status: 201 }),
);
