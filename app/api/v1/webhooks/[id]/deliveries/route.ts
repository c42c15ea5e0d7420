// One webhook endpoint's recent deliveries: what was sent, how many attempts, why the last one failed.
import { listWebhookDeliveries } from "@/server/approvals";
import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "users:manage" }, async ({ params }) => ({
  deliveries: await listWebhookDeliveries(params.id ?? ""),
}));
