import { issueToken, issueTokenSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth(
  { permission: "tokens:manage", body: issueTokenSchema },
  async ({ principal, params, body }) =>
    Response.json(await issueToken(actorOf(principal), params.id ?? "", body.name, body.expiresInDays), {
      status: 201,
    }),
);
