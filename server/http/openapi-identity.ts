/**
 * OpenAPI entries for service accounts, their tokens and client secrets, the OAuth 2.0 token endpoint and
 * SAML sign-in's browser endpoints (kept apart from the gateway's own paths in openapi.ts, which lists these last).
 */
import "server-only";
import {
  createClientSecretSchema,
  createServiceAccountSchema,
  issueTokenSchema,
  rotateTokenSchema,
  samlPostSchema,
  tokenRequestSchema,
  updateServiceAccountSchema,
} from "@/server/auth";
import { createScimTokenSchema } from "@/server/scim";
import type { ApiPath } from "./openapi-types";

const NOT_FOUND = {
  description: "no such service account (or token, or secret of it)",
  schema: "Error",
} as const;

export const IDENTITY_PATHS: ApiPath[] = [
  {
    path: "/api/v1/scim/tokens",
    method: "get",
    operation: {
      summary:
        "SCIM tokens for identity providers: { tokens: [{ id, name, prefix, createdBy, lastUsedAt, revokedAt }] }",
      permission: "users:manage",
    },
  },
  {
    path: "/api/v1/scim/tokens",
    method: "post",
    operation: {
      summary:
        "Mint a SCIM token (pst_…) for an identity provider's provisioning client: { id, name, prefix, token }, the token shown once. Audited",
      permission: "users:manage",
      body: createScimTokenSchema,
      responses: { "201": "the token, shown once" },
    },
  },
  {
    path: "/api/v1/scim/tokens/{id}",
    method: "delete",
    operation: {
      summary: "Revoke a SCIM token: the identity provider's next call is refused. Audited",
      permission: "users:manage",
      params: ["id"],
      responses: { "200": "revoked", "404": { description: "no such SCIM token", schema: "Error" } },
    },
  },
  {
    path: "/api/v1/service-accounts",
    method: "get",
    operation: {
      summary: "Service accounts with their tokens and client secrets (never the secrets), with last use",
      permission: "tokens:manage",
      responses: { "200": { description: "the service accounts", schema: "ServiceAccountList" } },
    },
  },
  {
    path: "/api/v1/service-accounts",
    method: "post",
    operation: {
      summary:
        "Create a service account and its first token (shown once). role: member, auditor or admin; giving auditor or admin needs every permission of that role, and an admin's token must expire within 90 days",
      permission: "tokens:manage",
      body: createServiceAccountSchema,
      responses: { "201": { description: "{ id, name } and the token", schema: "TokenCreated" } },
    },
  },
  {
    path: "/api/v1/service-accounts/{id}",
    method: "patch",
    operation: {
      summary:
        "Change a service account's role: { id, name, role, credentialsCapped }. Audited; raising it to admin caps its tokens and client secrets to expire within 90 days",
      permission: "tokens:manage",
      body: updateServiceAccountSchema,
      params: ["id"],
      responses: { "200": "the account's new role", "404": NOT_FOUND },
    },
  },
  {
    path: "/api/v1/service-accounts/{id}/tokens",
    method: "post",
    operation: {
      summary: "Issue another token (shown once)",
      permission: "tokens:manage",
      params: ["id"],
      body: issueTokenSchema,
      responses: { "201": { description: "the new token", schema: "TokenCreated" }, "404": NOT_FOUND },
    },
  },
  {
    path: "/api/v1/service-accounts/{id}/tokens/{tokenId}/rotate",
    method: "post",
    operation: {
      summary: "Rotate a token: a new one (shown once); the old one is revoked now or after graceSeconds",
      permission: "tokens:manage",
      params: ["id", "tokenId"],
      body: rotateTokenSchema,
      responses: {
        "201": { description: "the new token, and until when the old one works", schema: "TokenRotated" },
        "404": NOT_FOUND,
        "409": { description: "the token is already revoked or expired", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/tokens/{id}",
    method: "delete",
    operation: { summary: "Revoke a token at once", permission: "tokens:manage", params: ["id"] },
  },
  {
    path: "/api/v1/service-accounts/{id}/client-secrets",
    method: "post",
    operation: {
      summary: "Create an OAuth client secret (shown once) to mint short-lived access tokens with",
      permission: "tokens:manage",
      params: ["id"],
      body: createClientSecretSchema,
      responses: {
        "201": { description: "client id and secret", schema: "ClientSecretCreated" },
        "404": NOT_FOUND,
      },
    },
  },
  {
    path: "/api/v1/service-accounts/{id}/client-secrets/{secretId}",
    method: "delete",
    operation: {
      summary: "Revoke a client secret; the access tokens minted with it stop working at once",
      permission: "tokens:manage",
      params: ["id", "secretId"],
      responses: { "200": "{ ok: true }", "404": NOT_FOUND },
    },
  },
  {
    path: "/api/v1/oauth/token",
    method: "post",
    operation: {
      summary:
        "OAuth 2.0 client credentials (RFC 6749 §4.4): client id and secret by HTTP Basic or in the body buy an access token",
      isPublic: true,
      formBody: true,
      body: tokenRequestSchema,
      responses: {
        "200": { description: "the access token (Cache-Control: no-store)", schema: "AccessToken" },
        "400": {
          description: "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 §5.2)",
          schema: "OAuthError",
        },
        "401": {
          description: "invalid_client: unknown client, or a wrong, revoked or expired secret",
          schema: "OAuthError",
          headers: { "WWW-Authenticate": 'Basic realm="portcullis"' },
        },
        "429": {
          description: "too many failed attempts for this client id",
          schema: "OAuthError",
          headers: { "Retry-After": "seconds to wait" },
        },
      },
    },
  },
  {
    path: "/api/auth/saml/metadata",
    method: "get",
    operation: {
      summary:
        "The console's SAML service provider metadata (entity ID, assertion consumer service), for the identity provider's setup",
      isPublic: true,
      responses: {
        "200": "application/samlmetadata+xml",
        "404": { description: "SAML sign-in is not configured", schema: "Error" },
      },
    },
  },
  {
    path: "/api/auth/saml/login",
    method: "get",
    operation: {
      summary: "Starts a SAML sign-in (SP-initiated): the browser is sent to the identity provider",
      isPublic: true,
      query: ["callbackUrl"],
      responses: {
        "302": "to the identity provider's single sign-on URL with the AuthnRequest",
        "303": "back to /signin?error=Saml:<reason> when the identity provider's metadata cannot be loaded",
      },
    },
  },
  {
    path: "/api/auth/saml/acs",
    method: "post",
    operation: {
      summary:
        "SAML assertion consumer service (HTTP-POST binding), posted by the browser from the identity provider's page; the signed assertion is the credential",
      isPublic: true,
      formBody: true,
      body: samlPostSchema,
      responses: {
        "303":
          "to /signin to finish the sign-in (with a one-time hand-off cookie), or to /signin?error=Saml:<reason>",
        "400": { description: "SAMLResponse missing, or an unknown field", schema: "Error" },
        "415": { description: "not a form (application/x-www-form-urlencoded)", schema: "Error" },
      },
    },
  },
];
