"use client";

// Follows a held statement while its review is decided: the state live (pushed over the console's WebSocket,
// with a slow poll as a fallback), and the masked result in the editor once an approver let it run.
import { useEffect, useState } from "react";
import { onReviewsChanged } from "@/components/inbox/live-refresh";
import { type Review, reviewsApi } from "@/lib/api";
import { ResultTabs } from "./result-tabs";
import type { StatementResult } from "./types";

/** The review as the watcher reads it: its recorded result event (masked) in the editor's result shape. */
type ReviewState = Omit<Review, "result"> & {
  result?: { status: string; results?: StatementResult[]; error?: string | { message?: string } };
};

const FINAL = new Set(["executed", "failed", "denied", "expired", "cancelled"]);

export function ReviewWatcher({ reviewId, connection }: { reviewId: string; connection: string }) {
  const [review, setReview] = useState<ReviewState | null>(null);
  const [tab, setTab] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const next = (await reviewsApi.get(reviewId)).review as ReviewState;
      if (stopped) return;
      setReview(next);
      if (FINAL.has(next.state) && (next.state !== "executed" || next.result)) stopped = true;
    };
    const poll = () => {
      timer = setTimeout(async () => {
        await load().catch(() => {});
        if (!stopped) poll();
      }, 5000);
    };
    void load().catch(() => {});
    poll();
    const off = onReviewsChanged(() => void load().catch(() => {}));
    return () => {
      stopped = true;
      clearTimeout(timer);
      off();
    };
  }, [reviewId]);

  if (!review) return null;
  const last = review.decisions.at(-1);
  const who = last ? ` by ${last.byLabel}${last.comment ? `: “${last.comment}”` : ""}` : "";
  if (review.state === "pending") {
    return (
      <p className="small muted" data-testid="review-state">
        Pending{review.decisions.length > 0 ? ` (${review.decisions.length} approval so far)` : ""}. This
        updates by itself.
      </p>
    );
  }
  if (review.state === "executed" && review.result?.results) {
    return (
      <div data-testid="review-state">
        <p className="alert ok">Approved{who}. It ran once; the result:</p>
        <ResultTabs
          connection={connection}
          results={review.result.results}
          active={tab}
          onActivate={setTab}
        />
      </div>
    );
  }
  const error =
    typeof review.result?.error === "string" ? review.result.error : review.result?.error?.message;
  return (
    <p
      className={`alert ${review.state === "failed" || review.state === "denied" ? "error" : "warn"}`}
      data-testid="review-state"
    >
      {review.state === "denied" && `Denied${who}. Nothing was run.`}
      {review.state === "expired" && "The request expired before anyone approved it. Nothing was run."}
      {review.state === "cancelled" && "You cancelled the request."}
      {review.state === "failed" &&
        `Approved${who}, but it failed on the target${error ? `: ${error}` : ""}.`}
      {review.state === "approved" && "Approved: running now…"}
      {review.state === "executed" && !review.result && "Approved and run."}
    </p>
  );
}
