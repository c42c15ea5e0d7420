// One webhook endpoint's recent deliveries: what was sent, how many attempts, why the last one failed.

import { withAuth } from "@/server/http/route";
import { listWebhookDeliveries } from "@/server/webhooks";

export const GET = withAuth({ permission: "users:manage" }, async ({ params }) => ({
  deliveries: await listWebhookDeliveries(params.id ?? ""),
}));
