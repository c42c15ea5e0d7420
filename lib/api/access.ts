/**
 * The console's calls about access: time-boxed grants (request, approve, deny, end), lifting a revocation, and
 * access review campaigns (start, decide an item, decide in bulk, remind, close). Client-safe. Not responsible
 * for the evidence rules (server/access-review/evidence.ts); the words of an access path are here, for both.
 */
import { z } from "zod";
import { apiPath, callApi } from "./client";

export const campaignCreatedSchema = z.object({ campaign: z.looseObject({ id: z.string() }) });

/** One way a principal reaches a connection (server/access-review/evidence.ts AccessPath). */
export const accessPathSchema = z.discriminatedUnion("via", [
  z.object({ via: z.literal("group"), group: z.string(), since: z.string() }),
  z.object({ via: z.literal("grant"), grantId: z.string(), since: z.string(), endsAt: z.string() }),
  z.object({ via: z.literal("admin"), since: z.string() }),
]);

export type AccessPathReply = z.infer<typeof accessPathSchema>;

/** How a path reads in a table cell or a CSV field. */
export function describePath(path: AccessPathReply): string {
  if (path.via === "group") return `group ${path.group}`;
  if (path.via === "grant") return `grant until ${path.endsAt}`;
  return "admin role";
}

/** One principal's access to one connection with the evidence of its use (the access matrix's row). */
export const matrixRowSchema = z.object({
  principalId: z.string(),
  principal: z.string(),
  principalName: z.string(),
  principalKind: z.enum(["person", "service"]),
  connectionId: z.string(),
  connection: z.string(),
  connectionKind: z.enum(["postgres", "ssh"]),
  paths: z.array(accessPathSchema),
  since: z.string().describe("earliest start of a current path"),
  lastUsedAt: z.string().nullable(),
  sessions30: z.number().int(),
  sessions90: z.number().int(),
  statements30: z.number().int(),
  statements90: z.number().int(),
  touchedTypes: z.array(z.string()),
  touchedColumns: z.array(z.string()),
  isUnused: z.boolean().describe("standing access not used for the unused-days threshold"),
});

/** One item of a campaign as the campaign page hands it to the viewer (server/access-review ItemView). */
export const campaignItemSchema = z.object({
  id: z.string(),
  principal: z.string(),
  principalKind: z.enum(["person", "service"]),
  connection: z.string(),
  reviewer: z.string(),
  evidence: matrixRowSchema,
  decision: z.enum(["keep", "revoke"]).nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string(),
  effect: z.record(z.string(), z.unknown()).nullable().describe("what a revoke did, once it did"),
  consequence: z.string().describe("what a revoke would do, shown before the reviewer confirms"),
  isMine: z.boolean(),
  canDecide: z.boolean(),
});

export type CampaignItem = z.infer<typeof campaignItemSchema>;

export type GrantAction = "approve" | "deny" | "revoke";
export type CampaignAction = "remind" | "close";

export const grantsApi = {
  request: async (body: { connection: string; durationMinutes: number; reason: string }) =>
    callApi(apiPath`/api/v1/access/grants`, { body }),
  act: async (id: string, action: GrantAction) =>
    callApi(apiPath`/api/v1/access/grants/${id}/${action}`, { body: {} }),
  liftRevocation: async (id: string) =>
    callApi(apiPath`/api/v1/access/revocations/${id}/lift`, { method: "POST" }),
};

export const accessReviewsApi = {
  create: async (body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/access-reviews`, { body, schema: campaignCreatedSchema }),
  decideItem: async (
    campaignId: string,
    itemId: string,
    body: { decision: "keep" | "revoke"; comment: string },
  ) => callApi(apiPath`/api/v1/access-reviews/${campaignId}/items/${itemId}/decide`, { body }),
  decideUnused: async (campaignId: string, body: { decision: "keep" | "revoke"; comment: string }) =>
    callApi(apiPath`/api/v1/access-reviews/${campaignId}/bulk`, { body }),
  act: async (campaignId: string, action: CampaignAction) =>
    callApi(apiPath`/api/v1/access-reviews/${campaignId}/${action}`, { body: {} }),
  reportHref: (campaignId: string) => apiPath`/api/v1/access-reviews/${campaignId}/report`,
};
