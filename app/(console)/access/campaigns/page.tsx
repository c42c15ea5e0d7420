// Access review campaigns: admins start one; reviewers see the campaigns that have items for them, with
// progress per campaign.
import Link from "next/link";
import { AccessTabs } from "@/components/access/access-tabs";
import { CampaignForm } from "@/components/access/campaign-form";
import { RevocationTable } from "@/components/access/revocation-table";
import { getMatrixFilterOptions, listCampaigns, listRevocations } from "@/server/access-review";
import { requirePrincipal } from "@/server/auth";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "Access reviews" };

export default async function CampaignsPage() {
  const principal = await requirePrincipal("connections:use");
  const isAdmin = principal.kind === "person" && hasPermission(principal, "users:manage");
  const isAuditor = hasPermission(principal, "audit:read");
  const campaigns = await listCampaigns(principal);
  const options = isAdmin ? await getMatrixFilterOptions(principal) : undefined;
  const revocations = isAuditor ? await listRevocations(principal) : [];
  return (
    <>
      <h1>Access</h1>
      <AccessTabs current="/access/campaigns" isAuditor={isAuditor} />
      <p className="lead">
        {isAdmin
          ? "Start a review of who can reach which connections. Reviewers see each item with its evidence and keep or revoke it; a revoke takes effect at once. Closing a review produces its evidence report."
          : "Access reviews with items for you to decide: keep or revoke each principal's access, with the evidence of its use. You never review your own access."}
      </p>
      <h2>Reviews</h2>
      {campaigns.length === 0 ? (
        <div className="panel empty">
          <strong>No access reviews {isAdmin ? "yet" : "for you"}</strong>
          {isAdmin ? "Start one below." : "When a review has items for you, it appears here."}
        </div>
      ) : (
        <table className="data" aria-label="Access reviews">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Reviewers</th>
              <th>Due</th>
              <th>Progress</th>
              <th>For me</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link href={`/access/campaigns/${c.id}`}>{c.name}</Link>
                </td>
                <td>
                  <span className={`tag ${c.state === "open" ? "ok" : ""}`}>{c.state}</span>
                </td>
                <td className="small">{c.reviewers}</td>
                <td className="small">{c.dueAt.slice(0, 10)}</td>
                <td className="small">
                  <span className="progress-bar">
                    <span style={{ width: `${c.total ? (100 * c.decided) / c.total : 0}%` }} />
                  </span>
                  {c.decided} of {c.total} decided{c.revoked > 0 && `, ${c.revoked} revoked`}
                </td>
                <td className="small">{c.mine > 0 ? <strong>{c.mine} to decide</strong> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {isAuditor && (
        <>
          <h2>Revoked by reviews</h2>
          {revocations.length === 0 ? (
            <p className="muted small">
              Nobody has lost access in a review. When a reviewer revokes someone's access, it is listed here
              until an admin gives it back.
            </p>
          ) : (
            <RevocationTable revocations={revocations} canLift={isAdmin} />
          )}
        </>
      )}
      {options && (
        <>
          <h2>Start a review</h2>
          <CampaignForm groups={options.groups} connections={options.connections} />
        </>
      )}
    </>
  );
}
