import { z } from "zod";
import { actorOf, issueToken } from "@/server/auth";
import { withAuth } from "@/server/http/route";

const tokenSchema = z.object({
  name: z.string().trim().min(1).max(64).default("token"),
  expiresInDays: z.number().int().positive().max(3650).optional(),
});

export const POST = withAuth(
  { permission: "tokens:manage", body: tokenSchema },
  async ({ principal, params, body }) =>
    Response.json(await issueToken(actorOf(principal), params.id ?? "", body.name, body.expiresInDays), {
      status: 201,
    }),
);
