// The evidence report of a closed access review, as a printable page: every item, its decision, reviewer,
// time and comment, and the evidence the reviewer was shown. The same report downloads as JSON.
import { notFound } from "next/navigation";
import "@/components/access/access.css";
import { accessReviewsApi } from "@/lib/api";
import { campaignReport, describePath, type EvidenceReport } from "@/server/access-review";
import { requirePrincipal } from "@/server/auth";
import { GatewayError } from "@/server/errors";

export const metadata = { title: "Access review report" };

export default async function ReportPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requirePrincipal("audit:read");
  const { id } = await params;
  let report: EvidenceReport;
  try {
    report = await campaignReport(principal, id);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) notFound();
    if (err instanceof GatewayError && err.status === 409) {
      return <div className="alert warn">{err.message}</div>;
    }
    throw err;
  }
  const c = report.campaign;
  return (
    <>
      <h1>Access review report: {c.name}</h1>
      <p className="lead">
        Started by {c.createdBy} on {c.createdAt.slice(0, 16).replace("T", " ")} UTC, due{" "}
        {c.dueAt.slice(0, 10)}, closed by {c.closedBy} on {c.closedAt?.slice(0, 16).replace("T", " ")} UTC.
        Reviewers: {c.reviewers}. {report.summary.items} {report.summary.items === 1 ? "item" : "items"}:{" "}
        {report.summary.kept} kept, {report.summary.revoked} revoked, {report.summary.undecided} undecided.
        Evidence as shown to reviewers at the start of the review.
      </p>
      <div className="btn-row no-print">
        <a className="btn" href={accessReviewsApi.reportHref(c.id)} download>
          Download JSON
        </a>
      </div>
      <table className="data matrix" aria-label="Report">
        <thead>
          <tr>
            <th>Principal</th>
            <th>Connection</th>
            <th>Evidence</th>
            <th>Decision</th>
            <th>Reviewer</th>
            <th>When</th>
            <th>Comment</th>
          </tr>
        </thead>
        <tbody>
          {report.items.map((i) => (
            <tr key={`${i.principal}:${i.connection}`}>
              <td>{i.principal}</td>
              <td>{i.connection}</td>
              <td className="small">
                {i.evidence.paths.map(describePath).join("; ")}; since {i.evidence.since.slice(0, 10)}; last
                used {i.evidence.lastUsedAt?.slice(0, 10) ?? "never"}; sessions {i.evidence.sessions30}/
                {i.evidence.sessions90}, statements {i.evidence.statements30}/{i.evidence.statements90} (30/90
                d)
                {i.evidence.touchedTypes.length > 0 && `; touched ${i.evidence.touchedTypes.join(", ")}`}
                {i.evidence.isUnused && "; unused"}
              </td>
              <td>
                {i.decision ? (
                  <span className={`tag ${i.decision === "revoke" ? "off" : "ok"}`}>{i.decision}</span>
                ) : (
                  <span className="muted">no decision</span>
                )}
              </td>
              <td className="small">{i.decidedBy ?? i.reviewer}</td>
              <td className="small">{i.decidedAt?.slice(0, 16).replace("T", " ") ?? ""}</td>
              <td className="small">{i.comment}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">Generated {report.generatedAt}.</p>
    </>
  );
}
