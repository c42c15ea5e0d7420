// A new OAuth client secret for a service account: { clientId, clientSecret } in this reply only.
import { actorOf, createClientSecret, createClientSecretSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";

export const POST = withAuth(
  { permission: "tokens:manage", body: createClientSecretSchema },
  async ({ principal, params, body }) =>
    Response.json(
      await createClientSecret(actorOf(principal), params.id ?? "", body.name, body.expiresInDays),
      { status: 201 },
    ),
);
