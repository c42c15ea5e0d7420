// Sends a failed delivery to its endpoint again (once the endpoint is fixed), its attempts counted anew.
import { retryDelivery } from "@/server/approvals";
import { actorOf } from "@/server/auth";
import { withAuth } from "@/server/http/route";

export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) =>
  Response.json(
    { delivery: await retryDelivery(actorOf(principal), params.id ?? "", params.deliveryId ?? "") },
    { status: 202 },
  ),
);
