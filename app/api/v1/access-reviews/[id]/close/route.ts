import { closeCampaign } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Closes a campaign (admins); its evidence report is then available. */
export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) => ({
  campaign: await closeCampaign(principal, params.id ?? ""),
}));
