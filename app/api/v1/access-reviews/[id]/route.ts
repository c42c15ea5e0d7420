import { getCampaign } from "@/server/access-review";
import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

/** A campaign with my items (all items for auditors), their evidence and per-reviewer progress. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, params }) => ({
  campaign: await getCampaign(principal, params.id ?? ""),
}));
