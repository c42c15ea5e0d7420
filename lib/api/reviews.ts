/**
 * The console's calls about held requests: read one review, approve or deny it, cancel my own, count my
 * inbox, and cancel a run in flight. Client-safe. Not responsible for live updates (the console's WebSocket,
 * components/inbox/live-refresh.ts) nor for what a review runs.
 */
import { z } from "zod";
import { apiPath, callApi, queryString } from "./client";
import { reviewSchema } from "./schemas";

export type Review = z.infer<typeof reviewSchema>["review"];

export const reviewListSchema = z.object({ reviews: z.array(z.unknown()) });

export const reviewsApi = {
  get: async (id: string) => callApi(apiPath`/api/v1/reviews/${id}`, { schema: reviewSchema }),
  decide: async (id: string, decision: "approve" | "deny", comment: string) =>
    decision === "approve"
      ? callApi(apiPath`/api/v1/reviews/${id}/approve`, { body: { comment } })
      : callApi(apiPath`/api/v1/reviews/${id}/deny`, { body: { comment } }),
  cancel: async (id: string) => callApi(apiPath`/api/v1/reviews/${id}/cancel`, { body: {} }),
  inbox: async () =>
    callApi(`/api/v1/reviews${queryString({ scope: "inbox" })}`, { schema: reviewListSchema }),
};

export const runsApi = {
  /** True when the target accepted the cancel. */
  cancel: async (runId: string) =>
    (
      await callApi(apiPath`/api/v1/runs/${runId}/cancel`, {
        method: "POST",
        schema: z.looseObject({ cancelled: z.boolean().optional() }),
      })
    ).cancelled === true,
};
