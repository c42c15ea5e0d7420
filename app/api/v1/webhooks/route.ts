// Webhook endpoints that hear about reviews: list them, or add one (its signing secret is in this reply only).

import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { createWebhook, createWebhookSchema, listWebhooks } from "@/server/webhooks";

export const GET = withAuth({ permission: "users:manage" }, async () => ({ webhooks: await listWebhooks() }));

export const POST = withAuth(
  { permission: "users:manage", body: createWebhookSchema },
  async ({ principal, body }) =>
    Response.json(await createWebhook(actorOf(principal), body), { status: 201 }),
);
