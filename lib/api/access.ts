/**
 * The console's calls about access: time-boxed grants (request, approve, deny, end), lifting a revocation, and
 * access review campaigns (start, decide an item, decide in bulk, remind, close). Client-safe. Not responsible
 * for the evidence words (server/access-review/evidence.ts, pure and shared).
 */
import { z } from "zod";
import { apiPath, callApi } from "./client";

export const campaignCreatedSchema = z.object({ campaign: z.looseObject({ id: z.string() }) });

/** One item of a campaign as the campaign page hands it to the viewer (server/access-review ItemView). */
export const campaignItemSchema = z.object({
  id: z.string(),
  principal: z.string(),
  principalKind: z.enum(["person", "service"]),
  connection: z.string(),
  reviewer: z.string(),
  evidence: z.looseObject({}),
  decision: z.enum(["keep", "revoke"]).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string(),
  effect: z.record(z.string(), z.unknown()).nullable().describe("what a revoke did, once it did"),
  consequence: z.string().describe("what a revoke would do, shown before the reviewer confirms"),
  isMine: z.boolean(),
  canDecide: z.boolean(),
});

export type GrantAction = "approve" | "deny" | "revoke";
export type CampaignAction = "remind" | "close";

export const grantsApi = {
  request: (body: { connection: string; durationMinutes: number; reason: string }) =>
    callApi(apiPath`/api/v1/access/grants`, { body }),
  act: (id: string, action: GrantAction) =>
    callApi(apiPath`/api/v1/access/grants/${id}/${action}`, { body: {} }),
  liftRevocation: (id: string) => callApi(apiPath`/api/v1/access/revocations/${id}/lift`, { method: "POST" }),
};

export const accessReviewsApi = {
  create: (body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/access-reviews`, { body, schema: campaignCreatedSchema }),
  decideItem: (campaignId: string, itemId: string, body: { decision: "keep" | "revoke"; comment: string }) =>
    callApi(apiPath`/api/v1/access-reviews/${campaignId}/items/${itemId}/decide`, { body }),
  decideUnused: (campaignId: string, body: { decision: "keep" | "revoke"; comment: string }) =>
    callApi(apiPath`/api/v1/access-reviews/${campaignId}/bulk`, { body }),
  act: (campaignId: string, action: CampaignAction) =>
    callApi(apiPath`/api/v1/access-reviews/${campaignId}/${action}`, { body: {} }),
  reportHref: (campaignId: string) => apiPath`/api/v1/access-reviews/${campaignId}/report`,
};
