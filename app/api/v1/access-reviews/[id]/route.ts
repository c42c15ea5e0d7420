import { getCampaign } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** A campaign with my items (all items for auditors), their evidence and per-reviewer progress. */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => ({
  campaign: await getCampaign(principal, params.id ?? ""),
}));
