import { campaignReport } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** The evidence report of a closed campaign as a JSON download. */
export const GET = withAuth({ permission: "audit:read" }, async ({ principal, params }) => {
  const report = await campaignReport(principal, params.id ?? "");
  return new Response(JSON.stringify(report, null, 2), {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="access-review-${report.campaign.id}.json"`,
    },
  });
});
