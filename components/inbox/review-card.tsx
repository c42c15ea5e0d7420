"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { SqlCode } from "@/components/ui/sql-code";
import { reviewsApi } from "@/lib/api";

export interface ReviewItem {
  id: string;
  state: string;
  requester: string;
  connection: string;
  input: string;
  /** "terminal" for a command line held in a browser terminal; otherwise SQL. */
  channel?: string;
  class: string;
  /** a held statement's values for $1, $2..., masked as recorded (native clients' parameterized statements) */
  parameters?: (string | null)[] | null;
  reasons: { statement?: string; class?: string; ruleName?: string; message?: string }[];
  note: string;
  createdAt: string;
  expiresAt: string;
  approvalsRequired: number;
  decisions: { byLabel: string; at: string; decision: string; comment: string }[];
  canDecide: boolean;
  isMine: boolean;
  /** Read with one review: why an approved request failed to run. */
  result?: { error?: unknown };
}

function relative(iso: string, now: number) {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  // The store's clock and the page's differ by a moment: a request made a second ago is not "in 0s".
  if (abs < 5) return "just now";
  const text =
    abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return s < 0 ? `${text} ago` : `in ${text}`;
}

const STATE_TONE: Record<string, string> = {
  pending: "secret",
  executed: "ok",
  approved: "ok",
  denied: "off",
  failed: "off",
};

/** The two decisions, with the key that reaches each (components/inbox/inbox-keys.tsx). */
const DECISIONS = [
  { action: "approve", label: "Approve", key: "a", tone: "primary" },
  { action: "deny", label: "Deny", key: "d", tone: "danger" },
] as const;

export function ReviewCard({ review, now }: { review: ReviewItem; now: number }) {
  const router = useRouter();
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function decide(decision: "approve" | "deny") {
    setBusy(true);
    setError(null);
    try {
      await reviewsApi.decide(review.id, decision, comment);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function cancel() {
    try {
      await reviewsApi.cancel(review.id);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const approvals = review.decisions.filter((d) => d.decision === "approve").length;
  return (
    <article
      className="panel"
      aria-label={`Review of ${review.requester} on ${review.connection}`}
      data-review-id={review.id}
      // Focusable, so the inbox's keys (InboxKeys) can act on it.
      tabIndex={-1}
    >
      <div className="page-head" style={{ marginBottom: "0.5rem" }}>
        <div>
          <strong>{review.requester}</strong> wants to run{" "}
          {review.channel === "terminal" ? "a command" : "SQL"} on <strong>{review.connection}</strong>
          <div className="muted small">
            asked {relative(review.createdAt, now)}
            {review.state === "pending" && <> · expires {relative(review.expiresAt, now)}</>} · class{" "}
            <code>{review.class}</code>
            {review.approvalsRequired > 1 && (
              <>
                {" "}
                · {approvals} of {review.approvalsRequired} approvals
              </>
            )}
          </div>
        </div>
        <span className={`tag ${STATE_TONE[review.state] ?? ""}`}>{review.state}</span>
      </div>
      {review.channel === "terminal" ? (
        <pre className="mono code-block" data-kind="command">
          {review.input}
        </pre>
      ) : (
        <SqlCode sql={review.input} />
      )}
      {review.parameters && review.parameters.length > 0 && (
        <p className="small" data-kind="parameters">
          With the values (masked as recorded):{" "}
          {review.parameters.map((value, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: parameters are positional ($1, $2...)
            <span key={i}>
              {i > 0 && ", "}
              <code>${i + 1}</code> = <code>{value === null ? "NULL" : value}</code>
            </span>
          ))}
        </p>
      )}
      {review.channel === "native" && review.state === "approved" && (
        <p className="small muted">
          Approved: it runs when the requester sends it again, unchanged, on the same client connection
          (once).
        </p>
      )}
      {review.state === "failed" && typeof review.result?.error === "string" && (
        <p className="small alert error">Not run: {review.result.error}</p>
      )}
      {review.note && <p className="small">Note from the requester: “{review.note}”</p>}
      <ul className="small muted" style={{ margin: "0 0 0.5rem", paddingLeft: "1.2rem" }}>
        {review.reasons.map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: reasons are a fixed list per review
          <li key={i}>
            Held by “{r.ruleName}”{r.message ? `: ${r.message}` : ""}
            {r.class ? ` (${r.class})` : ""}
          </li>
        ))}
      </ul>
      {review.decisions.length > 0 && (
        <ul className="small" style={{ margin: "0 0 0.5rem", paddingLeft: "1.2rem" }}>
          {review.decisions.map((d) => (
            <li key={`${d.byLabel}${d.at}`}>
              {d.decision === "approve" ? "Approved" : "Denied"} by {d.byLabel} {relative(d.at, now)}
              {d.comment ? `: “${d.comment}”` : ""}
            </li>
          ))}
        </ul>
      )}
      <Alerts error={error} />
      {review.canDecide && (
        <div className="btn-row">
          <input
            type="text"
            aria-label="Comment"
            aria-keyshortcuts="c"
            placeholder="Comment (optional)"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            style={{ maxWidth: 360 }}
          />
          {DECISIONS.map((d) => (
            <button
              key={d.action}
              className={`btn ${d.tone}`}
              type="button"
              aria-keyshortcuts={`${d.key} Enter`}
              disabled={busy}
              onClick={() => decide(d.action)}
            >
              {d.label}
            </button>
          ))}
        </div>
      )}
      {review.isMine && review.state === "pending" && (
        <button className="btn small" type="button" onClick={cancel}>
          Cancel my request
        </button>
      )}
    </article>
  );
}
