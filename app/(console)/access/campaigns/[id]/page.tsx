// One access review: progress per reviewer, the viewer's items with their evidence and decisions, bulk
// decisions for unused access, and (admins) remind or close; a closed review links its evidence report.
import Link from "next/link";
import { notFound } from "next/navigation";
import { AccessTabs } from "@/components/access/access-tabs";
import {
  BulkUnused,
  CampaignAdminActions,
  type CampaignItem,
  CampaignItems,
} from "@/components/access/campaign-items";
import { accessReviewsApi } from "@/lib/api";
import { type CampaignView, getCampaign } from "@/server/access-review";
import { requirePrincipal } from "@/server/auth";
import { GatewayError } from "@/server/errors";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "Access review" };

export default async function CampaignPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requirePrincipal("connections:use");
  const { id } = await params;
  let campaign: CampaignView;
  try {
    campaign = await getCampaign(principal, id);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) notFound();
    throw err;
  }
  const isAuditor = hasPermission(principal, "audit:read");
  const unusedMine = campaign.items.filter((i) => i.canDecide && i.evidence.isUnused).length;
  return (
    <>
      <h1>{campaign.name}</h1>
      <AccessTabs current="/access/campaigns" isAuditor={isAuditor} />
      <p className="lead">
        <span className={`tag ${campaign.state === "open" ? "ok" : ""}`}>{campaign.state}</span> Started by{" "}
        {campaign.createdBy} on {campaign.createdAt.slice(0, 10)}, due {campaign.dueAt.slice(0, 10)}; reviewed
        by {campaign.reviewers}. The evidence is as of the start; access unused for {campaign.unusedDays} days
        is flagged.
      </p>
      <h2>Progress</h2>
      <table className="data" aria-label="Progress by reviewer">
        <thead>
          <tr>
            <th>Reviewer</th>
            <th>Decided</th>
          </tr>
        </thead>
        <tbody>
          {campaign.progress.map((p) => (
            <tr key={p.reviewer}>
              <td>{p.reviewer}</td>
              <td className="small">
                <span className="progress-bar">
                  <span style={{ width: `${p.total ? (100 * p.decided) / p.total : 0}%` }} />
                </span>
                {p.decided} of {p.total}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {campaign.state === "open" && campaign.isAdmin && <CampaignAdminActions campaignId={campaign.id} />}
      {campaign.state === "closed" && isAuditor && (
        <div className="alert info">
          Closed on {campaign.closedAt?.slice(0, 10)}.{" "}
          <Link href={`/access/campaigns/${campaign.id}/report`}>Evidence report</Link> ·{" "}
          <a href={accessReviewsApi.reportHref(campaign.id)} download>
            JSON
          </a>
        </div>
      )}
      <h2>{isAuditor ? "Items" : "Your items"}</h2>
      {campaign.state === "open" && <BulkUnused campaignId={campaign.id} count={unusedMine} />}
      {campaign.items.length === 0 ? (
        <div className="panel empty">
          <strong>No items</strong>
          Nothing in this review is for you.
        </div>
      ) : (
        <CampaignItems campaignId={campaign.id} items={campaign.items as CampaignItem[]} />
      )}
    </>
  );
}
