/**
 * The OpenAPI 3.1 description of the public API, built from the same zod schemas that validate request
 * bodies (so the document cannot drift from the validation), and from the reply schemas in lib/api/schemas.ts
 * that the integration tests check real replies against and the console's fetchers check what they read with.
 */
import "server-only";
import { z } from "zod";
import { RESPONSE_SCHEMAS, type ResponseSchemaName } from "@/lib/api";
import {
  bulkDecideSchema,
  createCampaignSchema,
  decideItemSchema,
  setOwnerSchema,
} from "@/server/access-review";
import { decisionSchema } from "@/server/approvals";
import { createConnectionSchema, trustHostKeySchema, updateConnectionSchema } from "@/server/connections";
import { checkSchema, execSchema } from "@/server/pipeline-schema";
import { commandRuleInputSchema, ruleInputSchema } from "@/server/policy";
import { MEMBER_OR_AUDITOR_READ, PERMISSIONS, permissionText } from "@/server/principal";
import { ADMINISTRATION_PATHS } from "./openapi-administration";
import { IDENTITY_PATHS } from "./openapi-identity";
import { NATIVE_PATHS } from "./openapi-native";
import type { ApiPath, ResponseSpec } from "./openapi-types";
import { MAX_WAIT_SECONDS } from "./prefer";

type JsonSchema = Record<string, unknown>;

const ID = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });

export type { ApiPath, ResponseSpec };

export const API_PATHS: ApiPath[] = [
  {
    path: "/api/v1/connections",
    method: "get",
    operation: {
      summary: "Connections the caller may use (never credentials)",
      permission: "connections:use",
      responses: { "200": { description: "the connections", schema: "ConnectionList" } },
    },
  },
  {
    path: "/api/v1/connections",
    method: "post",
    operation: {
      summary: "Create a connection",
      permission: "connections:manage",
      body: createConnectionSchema,
      responses: { "201": { description: "the created connection", schema: "Connection" } },
    },
  },
  {
    path: "/api/v1/connections/{name}",
    method: "get",
    operation: {
      summary: "Read a connection",
      permission: "connections:use",
      params: ["name"],
      responses: {
        "200": { description: "the connection", schema: "Connection" },
        "404": { description: "no such connection, or not one the caller may use", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/connections/{name}",
    method: "patch",
    operation: {
      summary: "Edit a connection",
      permission: "connections:manage",
      params: ["name"],
      body: updateConnectionSchema,
    },
  },
  {
    path: "/api/v1/connections/{name}",
    method: "delete",
    operation: { summary: "Delete a connection", permission: "connections:manage", params: ["name"] },
  },
  {
    path: "/api/v1/connections/{name}/host-key",
    method: "post",
    operation: {
      summary: "Trust the SSH host key the server offers now (its fingerprint, confirmed by an admin)",
      permission: "connections:manage",
      params: ["name"],
      body: trustHostKeySchema,
      responses: { "409": "the server offers a different key than the fingerprint given" },
    },
  },
  {
    path: "/api/v1/connections/{name}/host-key",
    method: "delete",
    operation: {
      summary: "Reset the pinned SSH host key; the next session or test pins it again",
      permission: "connections:manage",
      params: ["name"],
    },
  },
  {
    path: "/api/v1/connections/{name}/exec",
    method: "post",
    operation: {
      summary: "Run SQL through the pipeline: parse, decide, run, mask, record",
      permission: "connections:use",
      params: ["name"],
      body: execSchema,
      isLongPoll: true,
      responses: {
        "200": { description: "ran: the masked result", schema: "ExecDone" },
        "202": { description: "held for review (or still held when the wait ran out)", schema: "ExecHeld" },
        "403": { description: "blocked by policy, or denied by an approver", schema: "ExecRefused" },
        "404": { description: "no such connection, or not one the caller may use", schema: "Error" },
        "409": { description: "the review expired or was cancelled during the wait", schema: "ExecRefused" },
        "422": { description: "failed on the target: { error.position }", schema: "ExecRefused" },
      },
    },
  },
  {
    path: "/api/v1/connections/{name}/check",
    method: "post",
    operation: {
      summary: "Dry run: { decision, class, reasons }; nothing executes",
      permission: "connections:use",
      params: ["name"],
      body: checkSchema,
      responses: { "200": { description: "what the policy would decide", schema: "CheckResult" } },
    },
  },
  {
    path: "/api/v1/connections/{name}/schema",
    method: "get",
    operation: {
      summary: "Tables and columns, for completion",
      permission: "connections:use",
      params: ["name"],
    },
  },
  {
    path: "/api/v1/reviews",
    method: "get",
    operation: {
      summary: "The approval queue (scope=inbox|mine|history)",
      permission: "connections:use",
      query: ["scope"],
    },
  },
  {
    path: "/api/v1/reviews/{id}",
    method: "get",
    operation: {
      summary: "A review with its masked result once run",
      permission: "connections:use",
      params: ["id"],
      isLongPoll: true,
      responses: {
        "200": { description: "the review", schema: "Review" },
        "404": { description: "no such review, or not one the caller may see", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/reviews/{id}/approve",
    method: "post",
    operation: {
      summary: "Approve a review (approvers)",
      permission: "connections:use",
      params: ["id"],
      body: decisionSchema,
    },
  },
  {
    path: "/api/v1/reviews/{id}/deny",
    method: "post",
    operation: {
      summary: "Deny a review (approvers)",
      permission: "connections:use",
      params: ["id"],
      body: decisionSchema,
    },
  },
  {
    path: "/api/v1/reviews/{id}/cancel",
    method: "post",
    operation: { summary: "Cancel my review (requester)", permission: "connections:use", params: ["id"] },
  },
  {
    path: "/api/v1/sessions",
    method: "get",
    operation: {
      summary: "Sessions, filtered and paginated: { sessions, page, pageSize, hasMore }",
      permission: MEMBER_OR_AUDITOR_READ,
      query: ["user", "connection", "kind", "channel", "from", "to", "decision", "q", "column", "page"],
    },
  },
  {
    path: "/api/v1/sessions/{id}",
    method: "get",
    operation: {
      summary:
        "A session with a page of its events and masked results (?after=<event id>&limit=<n>, default 1,000, at most 5,000; nextAfter when there are more)",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
      query: ["after", "limit"],
      isLongPoll: true,
      responses: {
        "200": { description: "the session and its events", schema: "Session" },
        "404": { description: "no such session, or not the caller's", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/sessions/{id}/export",
    method: "get",
    operation: {
      summary: "Terminal sessions as asciicast v2, SQL sessions as JSON",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
      query: ["input"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/replay",
    method: "get",
    operation: {
      summary:
        "Terminal replay: the nearest keyframe at or before `at` seconds and the output from it to `at` and 30 s ahead; `after` + `from` give the next chunk",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
      query: ["at", "after", "from"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/timeline",
    method: "get",
    operation: {
      summary:
        "A terminal session's duration, size, markers (command, blocked, approval, masked) and keyframe times",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/search",
    method: "get",
    operation: {
      summary: "Times where the text appears in a terminal session's output (first 200)",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
      query: ["q"],
    },
  },
  {
    path: "/api/v1/policies/rules",
    method: "get",
    operation: { summary: "SQL policy rules", permission: "policies:manage" },
  },
  {
    path: "/api/v1/policies/rules",
    method: "post",
    operation: {
      summary: "Add a SQL policy rule",
      permission: "policies:manage",
      body: ruleInputSchema,
      responses: { "201": "{ id }" },
    },
  },
  {
    path: "/api/v1/policies/rules/{id}",
    method: "put",
    operation: {
      summary: "Replace a SQL policy rule",
      permission: "policies:manage",
      params: ["id"],
      body: ruleInputSchema,
    },
  },
  {
    path: "/api/v1/policies/rules/{id}",
    method: "delete",
    operation: { summary: "Delete a SQL policy rule", permission: "policies:manage", params: ["id"] },
  },
  {
    path: "/api/v1/policies/commands",
    method: "get",
    operation: { summary: "Terminal command rules", permission: "policies:manage" },
  },
  {
    path: "/api/v1/policies/commands",
    method: "post",
    operation: {
      summary: "Add a terminal command rule",
      permission: "policies:manage",
      body: commandRuleInputSchema,
      responses: { "201": "{ id }" },
    },
  },
  {
    path: "/api/v1/policies/commands/{id}",
    method: "put",
    operation: {
      summary: "Replace a terminal command rule",
      permission: "policies:manage",
      params: ["id"],
      body: commandRuleInputSchema,
    },
  },
  {
    path: "/api/v1/policies/commands/{id}",
    method: "delete",
    operation: { summary: "Delete a terminal command rule", permission: "policies:manage", params: ["id"] },
  },
  ...ADMINISTRATION_PATHS,
  ...IDENTITY_PATHS,
  ...NATIVE_PATHS,
  // Access reviews (server/access-review): the matrix, the auditor's questions, campaigns and revocations.
  {
    path: "/api/v1/access",
    method: "get",
    operation: {
      summary:
        "The access matrix: principals by connections, how and since when, last used, counts, touched types",
      permission: "audit:read",
      query: [
        "principal",
        "group",
        "connection",
        "unused",
        "type",
        "unusedDays",
        "page",
        "pageSize",
        "format",
      ],
      responses: {
        "200": "{ rows, total, page, pageSize, unusedDays }, or CSV of every matching row with format=csv",
      },
    },
  },
  {
    path: "/api/v1/access/questions",
    method: "get",
    operation: {
      summary: "Answer an auditor's question over recorded sessions and reviews",
      permission: "audit:read",
      query: ["question", "field", "connection", "since", "user"],
      responses: {
        "200":
          "{ title, columns, rows[{cells, sessionId}] }; question is touched (field, connection, since), unapproved-writes (connection?, since?) or approvals-by (user, since?)",
      },
    },
  },
  {
    path: "/api/v1/access/revocations",
    method: "get",
    operation: { summary: "Access taken back in access reviews and not lifted", permission: "audit:read" },
  },
  {
    path: "/api/v1/access/revocations/{id}/lift",
    method: "post",
    operation: {
      summary: "Give back the group path a revoke denied",
      permission: "users:manage",
      isForPeopleOnly: true,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/access/owners/{connection}",
    method: "put",
    operation: {
      summary: "Set the group that reviews a connection's access (its owners)",
      permission: "users:manage",
      params: ["connection"],
      body: setOwnerSchema,
    },
  },
  {
    path: "/api/v1/access-reviews",
    method: "get",
    operation: {
      summary: "Access review campaigns I may see, with progress",
      permission: MEMBER_OR_AUDITOR_READ,
    },
  },
  {
    path: "/api/v1/access-reviews",
    method: "post",
    operation: {
      summary: "Start an access review campaign",
      permission: "users:manage",
      body: createCampaignSchema,
      responses: { "201": "{ campaign }" },
    },
  },
  {
    path: "/api/v1/access-reviews/{id}",
    method: "get",
    operation: {
      summary: "A campaign with my items, their evidence and per-reviewer progress",
      permission: MEMBER_OR_AUDITOR_READ,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/access-reviews/{id}/items/{itemId}/decide",
    method: "post",
    operation: {
      summary: "Keep or revoke one item (a revoke takes effect at once; nobody reviews their own access)",
      permission: "connections:use",
      params: ["id", "itemId"],
      body: decideItemSchema,
    },
  },
  {
    path: "/api/v1/access-reviews/{id}/bulk",
    method: "post",
    operation: {
      summary: "Decide many items: the given ones, or all of mine flagged unused",
      permission: "connections:use",
      params: ["id"],
      body: bulkDecideSchema,
      responses: { "200": "{ decided, skipped }" },
    },
  },
  {
    path: "/api/v1/access-reviews/{id}/close",
    method: "post",
    operation: {
      summary: "Close a campaign",
      permission: "users:manage",
      isForPeopleOnly: true,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/access-reviews/{id}/remind",
    method: "post",
    operation: {
      summary: "Send the campaign.reminder webhook event now",
      permission: "users:manage",
      isForPeopleOnly: true,
      params: ["id"],
    },
  },
  {
    path: "/api/v1/access-reviews/{id}/report",
    method: "get",
    operation: {
      summary: "Evidence report of a closed campaign (JSON download)",
      permission: "audit:read",
      params: ["id"],
    },
  },
];

/** JSON Schema of a request body as the caller sends it (the input side of any transform). */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

const ref = (name: ResponseSchemaName) => ({ $ref: `#/components/schemas/${name}` });

function errorReply(description: string) {
  return { description, content: { "application/json": { schema: ref("Error") } } };
}

const PREFERENCE_APPLIED = {
  "Preference-Applied": {
    schema: { type: "string" },
    description: "wait=N when the Prefer: wait preference was honoured",
  },
};

function toResponse(spec: ResponseSpec, isLongPoll: boolean): JsonSchema {
  if (typeof spec === "string") return { description: spec };
  const names = spec.schema === undefined ? [] : [spec.schema].flat();
  const headers = {
    ...(isLongPoll && PREFERENCE_APPLIED),
    ...Object.fromEntries(
      Object.entries(spec.headers ?? {}).map(([name, description]) => [
        name,
        { schema: { type: "string" }, description },
      ]),
    ),
  };
  return {
    description: spec.description,
    ...(Object.keys(headers).length > 0 && { headers }),
    ...(names.length > 0 && {
      content: {
        "application/json": {
          schema: names.length === 1 ? ref(names[0] as ResponseSchemaName) : { oneOf: names.map(ref) },
        },
      },
    }),
  };
}

const PREFER_WAIT = {
  name: "Prefer",
  in: "header",
  required: false,
  schema: { type: "string", examples: ["wait=30"] },
  description: `RFC 7240 wait=N (at most ${MAX_WAIT_SECONDS} s): when held, answer as soon as the review is decided and the request has run, or after N s`,
};

function toOperation({ operation }: ApiPath): JsonSchema {
  const isLongPoll = operation.isLongPoll === true;
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(operation.responses ?? { "200": "success" })) {
    responses[status] = toResponse(spec, isLongPoll);
  }
  responses["200"] ??= { description: "success" };
  if (!operation.isPublic) {
    if (operation.body) responses["400"] ??= errorReply("the body failed validation (bad_request)");
    responses["401"] = errorReply("no or unknown credentials (unauthenticated)");
    responses["403"] ??= errorReply("missing permission, named in the message (forbidden)");
    responses["429"] = {
      ...errorReply("too many requests for this token (rate_limited)"),
      headers: { "Retry-After": { schema: { type: "integer" }, description: "seconds to wait" } },
    };
  }
  const bodySchema = operation.body && requestSchema(operation.body);
  return {
    summary: operation.summary,
    ...(operation.permission && {
      description: `Needs permission ${permissionText(operation.permission)}${operation.isForPeopleOnly ? ", held by a person (a service account is refused)" : ""}.`,
      "x-permission": [operation.permission].flat(),
    }),
    ...(operation.isPublic
      ? { security: [] }
      : operation.permission && {
          security: [{ bearerAuth: [] }, ...[operation.permission].flat().map((p) => ({ oauth2: [p] }))],
        }),
    parameters: [
      ...(operation.params ?? []).map(ID),
      ...(operation.query ?? []).map((name) => ({
        name,
        in: "query",
        required: false,
        schema: { type: "string" },
      })),
      ...(isLongPoll ? [PREFER_WAIT] : []),
    ],
    ...(bodySchema && {
      requestBody: {
        required: true,
        content: {
          ...(operation.formBody && { "application/x-www-form-urlencoded": { schema: bodySchema } }),
          "application/json": { schema: bodySchema },
        },
      },
    }),
    responses,
  };
}

/** JSON Schema of a reply as the gateway sends it (the output side). */
export function replySchema(name: ResponseSchemaName): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(RESPONSE_SCHEMAS[name], {
    io: "output",
    unrepresentable: "any",
  });
  return rest;
}

function responseComponents(): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.keys(RESPONSE_SCHEMAS).map((name) => [name, replySchema(name as ResponseSchemaName)]),
  );
}

const PERMISSION_TEXT: Record<string, string> = {
  "connections:use": "use the connections the account's groups allow",
  "connections:manage": "create, edit and delete connections",
  "users:manage": "manage people, groups and webhooks",
  "tokens:manage": "manage service accounts, tokens and client secrets",
  "policies:manage": "manage policy rules and masking",
  "audit:read": "read the audit log and every session",
};

export function buildOpenApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const entry of API_PATHS) {
    paths[entry.path] ??= {};
    const item = paths[entry.path];
    if (item) item[entry.method] = toOperation(entry);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Portcullis API",
      version: "1",
      description: "Access gateway: every SQL statement is parsed, decided by policy, masked and recorded.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }, { oauth2: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            "A service account's API token (ptc_…), or an access token (pta_…) from /api/v1/oauth/token",
        },
        oauth2: {
          type: "oauth2",
          description:
            "OAuth 2.0 client credentials: a service account's id and client secret buy a short-lived access token; scope narrows it to some of the account's permissions",
          flows: {
            clientCredentials: {
              tokenUrl: "/api/v1/oauth/token",
              scopes: Object.fromEntries(PERMISSIONS.map((p) => [p, PERMISSION_TEXT[p] ?? p])),
            },
          },
        },
      },
      schemas: responseComponents(),
    },
  };
}
