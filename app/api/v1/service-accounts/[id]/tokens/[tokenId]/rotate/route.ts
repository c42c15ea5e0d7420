// Rotates a token: the new one is in this reply only; the old one is revoked now or after { graceSeconds }.
import { rotateToken, rotateTokenSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

export const POST = withAuth(
  { permission: "tokens:manage", body: rotateTokenSchema },
  async ({ principal, params, body }) =>
    Response.json(
      await rotateToken(actorOf(principal), params.id ?? "", params.tokenId ?? "", body.graceSeconds),
      { status: 201 },
    ),
);
