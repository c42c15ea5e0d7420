// A new OAuth client secret for a service account: { clientId, clientSecret } in this reply only.
import { createClientSecret, createClientSecretSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth(
  { permission: "tokens:manage", body: createClientSecretSchema },
  async ({ principal, params, body }) =>
    Response.json(
      await createClientSecret(actorOf(principal), params.id ?? "", body.name, body.expiresInDays),
      { status: 201 },
    ),
);
