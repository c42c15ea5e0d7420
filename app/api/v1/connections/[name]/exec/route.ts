// Runs SQL through the pipeline. With `Prefer: wait=N` a held request waits up to N s for its review and
// answers with the result when it ran in time (else 202 as without the preference).
import { execReply, settledReviewReply } from "@/server/http/exec-reply";
import { waitForSettledReview } from "@/server/http/long-poll";
import { preferredWaitSeconds, withPreferenceApplied } from "@/server/http/prefer";
import { withAuth } from "@/server/http/route";
import { StageTimer } from "@/server/http/server-timing";
import { runSql } from "@/server/pipeline";
import { execSchema } from "@/server/pipeline-schema";

export const POST = withAuth(
  { permission: "connections:use", body: execSchema, ownText: ["input"] },
  async ({ principal, params, body, request }) => {
    // From the request's arrival: the first stage is reading, authenticating and parsing it.
    const timer = StageTimer.since(request);
    timer.mark("request");
    const wait = preferredWaitSeconds(request);
    const outcome = await runSql({
      principal,
      connectionName: params.name ?? "",
      input: body.input,
      channel: request.headers.get("x-portcullis-client") === "editor" ? "editor" : "api",
      sessionId: body.sessionId,
      runId: body.runId,
      rowLimit: body.rowLimit,
      note: body.note,
      timer,
    });
    const settled =
      outcome.status === "pending_review" && wait
        ? await waitForSettledReview(principal, outcome.reviewId, wait, request.signal)
        : undefined;
    const reply =
      settled && outcome.status === "pending_review"
        ? settledReviewReply(outcome, settled)
        : execReply(outcome);
    timer.mark("reply");
    reply.headers.set("server-timing", timer.header());
    return withPreferenceApplied(reply, wait);
  },
);
