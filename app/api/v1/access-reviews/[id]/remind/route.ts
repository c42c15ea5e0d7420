import { remindCampaign } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Sends the campaign.reminder webhook event now (admins). */
export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) =>
  remindCampaign(principal, params.id ?? ""),
);
