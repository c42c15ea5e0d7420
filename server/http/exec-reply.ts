/**
 * The HTTP reply to `POST /api/v1/connections/{name}/exec`: 200 with the masked result, 202 held for review,
 * 403 blocked, 422 failed on the target; and, after a `Prefer: wait`, the reply for a held request whose review
 * was settled meanwhile (200 with the recorded masked result once run, 403 denied, 409 expired or cancelled).
 */
import "server-only";
import type { SqlOutcome } from "@/server/pipeline";
import { streamJsonResponse } from "./json-stream";
import type { ReviewWithResult } from "./long-poll";

interface RecordedResult {
  columns?: unknown[];
  rows?: unknown[][];
  masked?: unknown[];
  truncated?: boolean;
}

/**
 * The result fields of a reply. The top level always holds the last statement's result (columns, rows, masked,
 * truncated). With several statements, `results` lists each one and the top level repeats the last; with one,
 * there is no `results` and its details (statement, command, rowCount, ...) sit at the top level, so a large
 * result is sent (and parsed by the caller) once, not twice.
 */
function resultFields<R extends RecordedResult>(results: R[]) {
  if (results.length === 1) {
    const only = results[0]!;
    return {
      ...only,
      columns: only.columns ?? [],
      rows: only.rows ?? [],
      masked: only.masked ?? [],
      truncated: only.truncated ?? false,
    };
  }
  const last = results.at(-1);
  return {
    results,
    columns: last?.columns ?? [],
    rows: last?.rows ?? [],
    masked: last?.masked ?? [],
    truncated: last?.truncated ?? false,
  };
}

function refusal(status: number, body: Record<string, unknown>, code: string, message: string) {
  return Response.json({ ...body, error: { code, message } }, { status });
}

export function execReply(outcome: SqlOutcome): Response {
  switch (outcome.status) {
    case "done": {
      // Streamed: a large result is sent as it is serialized, not built as one string first.
      const { results, ...rest } = outcome;
      return streamJsonResponse({ ...rest, ...resultFields(results) });
    }
    case "pending_review":
      return Response.json(outcome, { status: 202 });
    case "blocked":
      return refusal(
        403,
        outcome,
        "blocked",
        outcome.reasons.find((r) => r.action === "deny")?.message ?? "blocked by policy",
      );
    case "failed": {
      // Results of the statements before the failing one, if any (and no top-level repeat of them).
      return streamJsonResponse(outcome, { status: 422 });
    }
  }
}

/** A held request whose review is settled: what became of it, in the shape exec answers with. */
export function settledReviewReply(
  held: Extract<SqlOutcome, { status: "pending_review" }>,
  review: ReviewWithResult,
): Response {
  const base = { sessionId: held.sessionId, reviewId: held.reviewId, decision: held.decision };
  const result = "result" in review ? (review.result as Record<string, unknown>) : undefined;
  switch (review.state) {
    case "executed":
    case "failed": {
      const results = Array.isArray(result?.results) ? (result.results as RecordedResult[]) : [];
      if (review.state === "executed" && result?.status === "done") {
        return Response.json({
          status: "done",
          ...base,
          durationMs: result.durationMs,
          ...resultFields(results),
        });
      }
      return Response.json(
        {
          status: "failed",
          ...base,
          results,
          error: result?.error ?? { code: "target_error", message: "the approved request failed" },
        },
        { status: 422 },
      );
    }
    case "denied": {
      const denial = review.decisions.find((d) => d.decision === "deny");
      return refusal(
        403,
        { status: "denied", ...base, decisions: review.decisions },
        "denied",
        `an approver denied this request${denial?.comment ? `: ${denial.comment}` : ""}`,
      );
    }
    default:
      return refusal(
        409,
        { status: review.state, ...base },
        `review_${review.state}`,
        `the review was ${review.state} before anyone approved it`,
      );
  }
}
