/**
 * The console's calls about service accounts and their credentials: create an account (with its first
 * token), issue, rotate and revoke tokens, create and revoke client secrets. The one-time secrets in these
 * replies are shown once by the page and kept nowhere else. Client-safe.
 */

import { z } from "zod";
import { apiPath, callApi } from "./client";
import { clientSecretCreatedSchema, tokenCreatedSchema, tokenRotatedSchema } from "./schemas";

export const serviceAccountCreatedSchema = tokenCreatedSchema.extend({ id: z.string(), name: z.string() });

export const serviceAccountsApi = {
  create: async (body: { name: string; groups: string[]; role?: string; expiresInDays?: number }) =>
    callApi(apiPath`/api/v1/service-accounts`, { body, schema: serviceAccountCreatedSchema }),
  setRole: async (accountId: string, role: string) =>
    callApi(apiPath`/api/v1/service-accounts/${accountId}`, { method: "PATCH", body: { role } }),
  issueToken: async (accountId: string, body: { name: string; expiresInDays?: number }) =>
    callApi(apiPath`/api/v1/service-accounts/${accountId}/tokens`, { body, schema: tokenCreatedSchema }),
  rotateToken: async (accountId: string, tokenId: string, graceSeconds: number) =>
    callApi(apiPath`/api/v1/service-accounts/${accountId}/tokens/${tokenId}/rotate`, {
      body: { graceSeconds },
      schema: tokenRotatedSchema,
    }),
  revokeToken: async (tokenId: string) => callApi(apiPath`/api/v1/tokens/${tokenId}`, { method: "DELETE" }),
  createClientSecret: async (accountId: string, body: { name: string; expiresInDays?: number }) =>
    callApi(apiPath`/api/v1/service-accounts/${accountId}/client-secrets`, {
      body,
      schema: clientSecretCreatedSchema,
    }),
  revokeClientSecret: async (accountId: string, secretId: string) =>
    callApi(apiPath`/api/v1/service-accounts/${accountId}/client-secrets/${secretId}`, { method: "DELETE" }),
};
