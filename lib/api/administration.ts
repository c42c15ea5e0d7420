/**
 * The console's administration calls: people, groups, webhooks, policy rules, first-run setup and signing
 * out everywhere. Paths built by `apiPath` (ids escaped as one segment); replies the console reads are
 * checked. Client-safe. Not responsible for the bodies' rules: the server validates them with its own schemas.
 */
import { z } from "zod";
import { apiPath, callApi } from "./client";

export const webhookCreatedSchema = z.looseObject({ secret: z.string() });

export const usersApi = {
  create: async (body: Record<string, unknown>) => callApi(apiPath`/api/v1/users`, { body }),
  update: async (id: string, body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/users/${id}`, { method: "PATCH", body }),
  remove: async (id: string) => callApi(apiPath`/api/v1/users/${id}`, { method: "DELETE" }),
  signOutEverywhere: async (id: string) =>
    callApi(apiPath`/api/v1/users/${id}/sign-out-everywhere`, { method: "POST" }),
};

export const meApi = {
  signOutEverywhere: async () => callApi(apiPath`/api/v1/me/sign-out-everywhere`, { method: "POST" }),
};

export const setupApi = {
  createFirstAdmin: async (body: { email: string; password: string; name?: string }) =>
    callApi(apiPath`/api/setup`, { body }),
};

export const groupsApi = {
  create: async (body: { name: string; description: string }) => callApi(apiPath`/api/v1/groups`, { body }),
  remove: async (id: string) => callApi(apiPath`/api/v1/groups/${id}`, { method: "DELETE" }),
  addMember: async (id: string, userId: string) =>
    callApi(apiPath`/api/v1/groups/${id}/members`, { body: { userId } }),
  removeMember: async (id: string, userId: string) =>
    callApi(apiPath`/api/v1/groups/${id}/members`, { method: "DELETE", body: { userId } }),
};

export const webhooksApi = {
  create: async (body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/webhooks`, { body, schema: webhookCreatedSchema }),
  update: async (id: string, body: { enabled: boolean }) =>
    callApi(apiPath`/api/v1/webhooks/${id}`, { method: "PATCH", body }),
  remove: async (id: string) => callApi(apiPath`/api/v1/webhooks/${id}`, { method: "DELETE" }),
  test: async (id: string) => callApi(apiPath`/api/v1/webhooks/${id}/test`, { method: "POST" }),
  retryDelivery: async (id: string, deliveryId: string) =>
    callApi(apiPath`/api/v1/webhooks/${id}/deliveries/${deliveryId}/retry`, { method: "POST" }),
};

export const rulesApi = {
  create: async (body: Record<string, unknown>) => callApi(apiPath`/api/v1/policies/rules`, { body }),
  update: async (id: string, body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/policies/rules/${id}`, { method: "PUT", body }),
  remove: async (id: string) => callApi(apiPath`/api/v1/policies/rules/${id}`, { method: "DELETE" }),
};

/** A SCIM token as listed: never the token itself, only its first characters. */
export const scimTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe("first characters, to recognise it"),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ScimTokenRow = z.infer<typeof scimTokenSchema>;

/** A minted SCIM token: `token` is in this reply only. */
export const scimTokenCreatedSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  token: z.string(),
});

export const scimTokensApi = {
  create: async (name: string) =>
    callApi(apiPath`/api/v1/scim/tokens`, { body: { name }, schema: scimTokenCreatedSchema }),
  revoke: async (id: string) => callApi(apiPath`/api/v1/scim/tokens/${id}`, { method: "DELETE" }),
};
