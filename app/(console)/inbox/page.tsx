import Link from "next/link";
import { InboxKeys } from "@/components/inbox/inbox-keys";
import { LiveRefresh } from "@/components/inbox/live-refresh";
import { ReviewCard, type ReviewItem } from "@/components/inbox/review-card";
import { FilterField } from "@/components/ui/filter-field";
import { listReviews, parseReviewFilters, type ReviewFilters } from "@/server/approvals";
import { requirePrincipal } from "@/server/auth";

export const metadata = { title: "Inbox" };

type Params = Record<string, string | undefined>;

const STATES = ["pending", "approved", "denied", "expired", "cancelled", "executed", "failed"];

export default async function InboxPage({ searchParams }: { searchParams: Promise<Params> }) {
  const principal = await requirePrincipal("connections:use");
  const { tab = "inbox", ...rest } = await searchParams;
  const scope = tab === "history" ? "history" : tab === "mine" ? "mine" : "inbox";
  const parsed = parseReviewFilters(rest);
  const filters: ReviewFilters = parsed.success ? parsed.data : {};
  const reviews = (await listReviews(principal, scope, filters)) as unknown as ReviewItem[];
  const isFiltered = Object.keys(filters).length > 0;
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
      {scope !== "inbox" && (
        <form className="filters" method="get" aria-label="Filter reviews">
          <input type="hidden" name="tab" value={scope} />
          <div className="field">
            <label htmlFor="f-state">State</label>
            <select id="f-state" name="state" defaultValue={filters.state ?? ""}>
              <option value="">{scope === "history" ? "any decided" : "any"}</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <FilterField id="f-connection" name="connection" label="Connection" value={filters.connection} />
          {scope === "history" && (
            <FilterField id="f-requester" name="requester" label="Requester" value={filters.requester} />
          )}
          <FilterField id="f-text" name="text" label="Statement contains" value={filters.text} />
          <FilterField id="f-from" name="from" label="From" type="date" value={filters.from} />
          <FilterField id="f-to" name="to" label="To" type="date" value={filters.to} />
          {scope === "history" && (
            <label className="small" style={{ alignSelf: "center" }}>
              <input type="checkbox" name="decidedByMe" value="1" defaultChecked={filters.decidedByMe} />{" "}
              decided by me
            </label>
          )}
          <button className="btn" type="submit">
            Filter
          </button>
          {isFiltered && (
            <Link className="btn small" href={`/inbox?tab=${scope}`}>
              Clear
            </Link>
          )}
        </form>
      )}
      {!parsed.success && (
        <p className="alert error" role="alert">
          {parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}
        </p>
      )}
      {reviews.length === 0 ? (
        <div className="panel empty">
          <strong>
            {scope === "inbox"
              ? "Nothing waits for you"
              : isFiltered
                ? "No review matches"
                : "Nothing here yet"}
          </strong>
          {scope === "inbox"
            ? "When someone's statement needs an approval you can give, it appears here at once."
            : isFiltered
              ? "Widen the filters or clear them."
              : "Requests held by policy and their decisions are listed here."}
        </div>
      ) : (
        <>
          {scope === "inbox" && (
            <p className="small muted">
              Keys: <kbd>j</kbd> / <kbd>k</kbd> move between requests; on a request, <kbd>a</kbd> or{" "}
              <kbd>d</kbd> goes to Approve or Deny and <kbd>Enter</kbd> decides; <kbd>c</kbd> writes a comment
              (<kbd>Esc</kbd> goes back).
            </p>
          )}
          <InboxKeys />
          {reviews.map((r) => (
            <ReviewCard key={r.id} review={r} now={now} />
          ))}
        </>
      )}
    </>
  );
}
