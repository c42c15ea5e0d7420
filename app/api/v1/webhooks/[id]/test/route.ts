// Sends one webhook endpoint a test message now; its delivery shows in GET /api/v1/webhooks/{id}/deliveries.

import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { sendTestEvent } from "@/server/webhooks";

export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) =>
  Response.json({ delivery: await sendTestEvent(actorOf(principal), params.id ?? "") }, { status: 202 }),
);
