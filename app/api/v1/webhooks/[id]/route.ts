// One webhook endpoint: change its URL, events, format, secret or whether it is enabled; or remove it.

import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { deleteWebhook, updateWebhook, updateWebhookSchema } from "@/server/webhooks";

export const PATCH = withAuth(
  { permission: "users:manage", body: updateWebhookSchema },
  async ({ principal, params, body }) => ({
    webhook: await updateWebhook(actorOf(principal), params.id ?? "", body),
  }),
);

export const DELETE = withAuth({ permission: "users:manage" }, async ({ principal, params }) => {
  await deleteWebhook(actorOf(principal), params.id ?? "");
  return { ok: true };
});
