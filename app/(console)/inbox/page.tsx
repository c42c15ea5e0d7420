import Link from "next/link";
import { LiveRefresh } from "@/components/inbox/live-refresh";
import { ReviewCard, type ReviewItem } from "@/components/inbox/review-card";
import { listReviews } from "@/server/approvals";
import { requirePrincipal } from "@/server/auth";

export const metadata = { title: "Inbox" };

export default async function InboxPage({ searchParams }: { searchParams: Promise<{ tab?: string }> }) {
  const principal = await requirePrincipal("connections:use");
  const { tab = "inbox" } = await searchParams;
  const scope = tab === "history" ? "history" : tab === "mine" ? "mine" : "inbox";
  const reviews = (await listReviews(principal, scope)) as unknown as ReviewItem[];
  const now = Date.now();
  const tabs = [
    { id: "inbox", label: "Waiting for me" },
    { id: "mine", label: "My requests" },
    { id: "history", label: "History" },
  ];
  return (
    <>
      <LiveRefresh />
      <h1>Inbox</h1>
      <p className="lead">
        Requests held by policy wait here. An approval runs that exact input once; any edit is a new request.
      </p>
      <nav className="btn-row" aria-label="Inbox tabs" style={{ marginBottom: "1rem" }}>
        {tabs.map((t) => (
          <Link
            key={t.id}
            href={`/inbox?tab=${t.id}`}
            className={`btn small ${t.id === scope ? "primary" : ""}`}
            aria-current={t.id === scope ? "page" : undefined}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      {reviews.length === 0 ? (
        <div className="panel empty">
          <strong>{scope === "inbox" ? "Nothing waits for you" : "Nothing here yet"}</strong>
          {scope === "inbox"
            ? "When someone's statement needs an approval you can give, it appears here at once."
            : "Requests held by policy and their decisions are listed here."}
        </div>
      ) : (
        reviews.map((r) => <ReviewCard key={r.id} review={r} now={now} />)
      )}
    </>
  );
}
