/**
 * OpenAPI entries for the rest of the console's API: a connection's history, masking and test; runs; who am I;
 * time-boxed access grants; people, groups, webhooks, live terminals and the audit log. (The SQL path and
 * policies are in openapi.ts, service accounts and OAuth in openapi-identity.ts.)
 */
import "server-only";
import { decisionSchema } from "@/server/approvals";
import { createGroupSchema, createUserSchema, groupMemberSchema, updateUserSchema } from "@/server/auth";
import { classificationDecisionSchema, classificationSettingsSchema } from "@/server/classification";
import { requestGrantSchema } from "@/server/grants";
import { maskingSettingsSchema } from "@/server/masking-config";
import { MEMBER_OR_AUDITOR_READ, type Permission } from "@/server/principal";
import { createWebhookSchema, updateWebhookSchema } from "@/server/webhooks";
import type { ApiPath } from "./openapi-types";

const crud = (
  path: string,
  method: ApiPath["method"],
  summary: string,
  permission: Permission | readonly Permission[],
  extra: Partial<ApiPath["operation"]> = {},
): ApiPath => ({
  path,
  method,
  operation: {
    summary,
    permission,
    ...(path.includes("{") && { params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "") }),
    ...extra,
  },
});

export const ADMINISTRATION_PATHS: ApiPath[] = [
  crud(
    "/api/v1/connections/{name}/history",
    "get",
    "My statements on this connection, newest first",
    "connections:use",
  ),
  crud(
    "/api/v1/connections/{name}/test",
    "post",
    "Test the connection: what failed, in words",
    "connections:manage",
  ),
  crud("/api/v1/connections/{name}/masking", "get", "The connection's masking settings", "policies:manage"),
  crud(
    "/api/v1/connections/{name}/masking",
    "put",
    "Replace the connection's masking settings",
    "policies:manage",
    {
      body: maskingSettingsSchema,
    },
  ),
  crud("/api/v1/connections/{name}/masking", "delete", "Back to the default masking", "policies:manage"),
  crud(
    "/api/v1/connections/{name}/classification",
    "get",
    "Discovered sensitive columns (types found, counts per type, confidence, decision; never a value), the scan's progress and the hand-written column rules",
    "policies:manage",
  ),
  crud(
    "/api/v1/connections/{name}/classification",
    "put",
    "Whether proposed classifications apply at once, as if confirmed",
    "policies:manage",
    { body: classificationSettingsSchema },
  ),
  crud(
    "/api/v1/connections/{name}/classification/scan",
    "post",
    "Sample the target now (bounded: rows per table, tables per scan, statement timeout): 202 with { scan }; 409 while one runs",
    "policies:manage",
    {
      responses: {
        "202": "the scan started; GET the classification for its progress",
        "409": "a scan is already running",
      },
    },
  ),
  crud(
    "/api/v1/connections/{name}/classification/{id}",
    "post",
    "Decide a discovered column: confirm (optionally with another type: it is then masked by that column rule), reject, or reopen",
    "policies:manage",
    { body: classificationDecisionSchema },
  ),
  crud(
    "/api/v1/runs/{id}/cancel",
    "post",
    "Cancel my statement in flight by its runId: { cancelled }",
    "connections:use",
  ),
  crud("/api/v1/me", "get", "Who the caller is", MEMBER_OR_AUDITOR_READ),
  crud(
    "/api/v1/me/sign-out-everywhere",
    "post",
    "End every console session of mine (people), this one included",
    "connections:use",
  ),
  crud(
    "/api/v1/access/grants",
    "get",
    "Access grants: mine, or all (audit:read) with scope=all",
    "connections:use",
    {
      query: ["scope"],
    },
  ),
  crud(
    "/api/v1/access/grants",
    "post",
    "Ask for time-boxed access to a connection (people)",
    "connections:use",
    {
      body: requestGrantSchema,
    },
  ),
  crud(
    "/api/v1/access/grants/{id}/approve",
    "post",
    "Approve an access request (admins)",
    "connections:use",
    {
      body: decisionSchema,
    },
  ),
  crud("/api/v1/access/grants/{id}/deny", "post", "Deny an access request (admins)", "connections:use", {
    body: decisionSchema,
  }),
  crud("/api/v1/access/grants/{id}/revoke", "post", "End a grant now (holder or admin)", "connections:use"),
  crud("/api/v1/users", "get", "People", "users:manage"),
  crud("/api/v1/users", "post", "Add a person", "users:manage", {
    body: createUserSchema,
    responses: { "201": "{ id }" },
  }),
  crud(
    "/api/v1/users/{id}",
    "patch",
    "Edit a person (name, role, disabled, password, groups)",
    "users:manage",
    {
      body: updateUserSchema,
    },
  ),
  crud("/api/v1/users/{id}", "delete", "Delete a person or a service account", "users:manage"),
  crud(
    "/api/v1/users/{id}/sign-out-everywhere",
    "post",
    "End every console session of a person",
    "users:manage",
  ),
  crud("/api/v1/groups", "get", "Groups with their members", "users:manage"),
  crud("/api/v1/groups", "post", "Add a group", "users:manage", {
    body: createGroupSchema,
    responses: { "201": "{ id }" },
  }),
  crud("/api/v1/groups/{id}", "delete", "Delete a group", "users:manage"),
  crud("/api/v1/groups/{id}/members", "post", "Add a member", "users:manage", { body: groupMemberSchema }),
  crud("/api/v1/groups/{id}/members", "delete", "Remove a member", "users:manage", {
    body: groupMemberSchema,
  }),
  crud("/api/v1/webhooks", "get", "Webhook endpoints that hear about reviews", "users:manage"),
  crud(
    "/api/v1/webhooks",
    "post",
    "Add a webhook endpoint (its signing secret is in this reply only)",
    "users:manage",
    {
      body: createWebhookSchema,
      responses: { "201": "the endpoint and its secret" },
    },
  ),
  crud("/api/v1/webhooks/{id}", "patch", "Edit a webhook endpoint", "users:manage", {
    body: updateWebhookSchema,
  }),
  crud("/api/v1/webhooks/{id}", "delete", "Remove a webhook endpoint", "users:manage"),
  crud(
    "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    "post",
    "Send a failed delivery again, its attempts counted anew",
    "users:manage",
    { responses: { "202": "{ delivery: { id } }" } },
  ),
  crud("/api/v1/webhooks/{id}/test", "post", "Send the endpoint a test message now", "users:manage", {
    responses: { "202": "{ delivery: { id } }" },
  }),
  crud(
    "/api/v1/webhooks/{id}/deliveries",
    "get",
    "An endpoint's recent deliveries, newest first: event, state (pending, delivered, failed), attempts, last error",
    "users:manage",
  ),
  crud("/api/v1/terminals", "get", "Live terminal sessions on this gateway process", "audit:read"),
  crud(
    "/api/v1/terminals/{id}",
    "delete",
    "End a live terminal session; replies once the end is recorded",
    "connections:manage",
    {
      responses: {
        "200": { description: "ended", schema: "SessionEnded" },
        "404": { description: "no live terminal session with that id", schema: "Error" },
      },
    },
  ),
  {
    path: "/api/v1/audit",
    method: "get",
    operation: {
      summary: "Audit events, filtered and paginated; format=csv|json exports the whole filtered set",
      permission: "audit:read",
      query: ["actor", "kind", "action", "target", "from", "to", "page", "format"],
    },
  },
  {
    path: "/api/v1/audit/stream",
    method: "get",
    operation: {
      summary:
        "The audit stream as NDJSON (application/x-ndjson): audit events and sessions' statements, commands and results (decision, masked types; never values), oldest first, after the cursor `after` (empty: the beginning), at most `limit` lines (1-1000, default 200). Each line has its cursor; X-Next-Cursor is the last one",
      permission: "audit:read",
      query: ["after", "limit"],
      responses: { "200": "NDJSON lines", "400": { description: "a bad cursor or limit", schema: "Error" } },
    },
  },
  {
    path: "/api/v1/audit/verify",
    method: "get",
    operation: {
      summary: "Check the audit log's hash chain: { ok, events, unchained, head, firstBadSeq?, reason? }",
      permission: "audit:read",
    },
  },
  {
    path: "/api/v1/sessions/{id}/verify",
    method: "get",
    operation: {
      summary: "Check the session's hash chain: { ok, events, head, firstBadSeq?, reason? }",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/evidence",
    method: "get",
    operation: {
      summary: "Evidence bundle: the session, its events, related audit events and the integrity proof",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
    },
  },
];
