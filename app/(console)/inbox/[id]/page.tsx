import Link from "next/link";
import { notFound } from "next/navigation";
import { LiveRefresh } from "@/components/inbox/live-refresh";
import { ReviewCard, type ReviewItem } from "@/components/inbox/review-card";
import { getReview } from "@/server/approvals";
import { requirePrincipal } from "@/server/auth";
import { GatewayError } from "@/server/errors";

export const metadata = { title: "Review" };

export default async function ReviewPage({ params }: { params: Promise<{ id: string }> }) {
  const principal = await requirePrincipal("connections:use");
  const { id } = await params;
  const review = await getReview(principal, id).catch((err) => {
    if (err instanceof GatewayError && err.status === 404) notFound();
    throw err;
  });
  return (
    <>
      <LiveRefresh />
      <p className="small">
        <Link href="/inbox">← Inbox</Link>
      </p>
      <h1>Review</h1>
      <ReviewCard review={review as unknown as ReviewItem} now={Date.now()} />
      {"result" in review && review.result && (
        <div className="panel">
          <strong>Outcome</strong>
          <p className="small muted">
            {String((review.result as { status?: string }).status)} ·{" "}
            {String((review.result as { rowCount?: number }).rowCount ?? 0)} rows (masked results are in the
            requester&apos;s session)
          </p>
        </div>
      )}
    </>
  );
}
