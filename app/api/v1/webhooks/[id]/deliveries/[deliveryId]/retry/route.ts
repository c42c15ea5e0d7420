// Sends a failed delivery to its endpoint again (once the endpoint is fixed), its attempts counted anew.

import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { retryDelivery } from "@/server/webhooks";

export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) =>
  Response.json(
    { delivery: await retryDelivery(actorOf(principal), params.id ?? "", params.deliveryId ?? "") },
    { status: 202 },
  ),
);
