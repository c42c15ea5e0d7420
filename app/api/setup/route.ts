import { z } from "zod";
import { createFirstAdmin, emailSchema, passwordSchema } from "@/server/auth";
import { withoutAuth } from "@/server/http/route";

const setupSchema = z.strictObject({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().max(120).optional(),
});

/** First-run setup: creates the first admin, and only while no person exists. */
export const POST = withoutAuth({ body: setupSchema }, async ({ body }) =>
  Response.json({ id: await createFirstAdmin(body) }, { status: 201 }),
);
