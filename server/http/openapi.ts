/**
 * The OpenAPI 3.1 description of the public API, built from the same zod schemas that validate request
 * bodies (so the document cannot drift from the validation). It describes requests and errors; response
 * bodies are summarized in words rather than schemas.
 */
import "server-only";
import { z } from "zod";
import { decisionSchema } from "@/server/approvals/schema";
import { createConnectionSchema, updateConnectionSchema } from "@/server/connections";
import { checkSchema, execSchema } from "@/server/pipeline-schema";
import { ruleInputSchema } from "@/server/policy";
import { commandRuleInputSchema } from "@/server/terminal";

type JsonSchema = Record<string, unknown>;

interface Operation {
  summary: string;
  permission?: string;
  body?: z.ZodType;
  params?: string[];
  query?: string[];
  responses?: Record<string, string>;
}

export interface ApiPath {
  path: string;
  method: "get" | "post" | "put" | "patch" | "delete";
  operation: Operation;
}

const ID = (name: string) => ({ name, in: "path", required: true, schema: { type: "string" } });

export const API_PATHS: ApiPath[] = [
  {
    path: "/api/v1/connections",
    method: "get",
    operation: {
      summary: "Connections the caller may use (never credentials)",
      permission: "connections:use",
    },
  },
  {
    path: "/api/v1/connections",
    method: "post",
    operation: {
      summary: "Create a connection",
      permission: "connections:manage",
      body: createConnectionSchema,
      responses: { "201": "the created connection" },
    },
  },
  {
    path: "/api/v1/connections/{name}",
    method: "get",
    operation: { summary: "Read a connection", permission: "connections:use", params: ["name"] },
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
    path: "/api/v1/connections/{name}/exec",
    method: "post",
    operation: {
      summary: "Run SQL through the pipeline: parse, decide, run, mask, record",
      permission: "connections:use",
      params: ["name"],
      body: execSchema,
      responses: {
        "200": "the masked result",
        "202": "held for review: { reviewId }",
        "403": "blocked by policy: { reasons }",
        "422": "failed on the target: { error.position }",
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
      permission: "connections:use",
      query: ["user", "connection", "kind", "channel", "from", "to", "decision", "q", "column", "page"],
    },
  },
  {
    path: "/api/v1/sessions/{id}",
    method: "get",
    operation: {
      summary: "A session with its events and masked results",
      permission: "connections:use",
      params: ["id"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/export",
    method: "get",
    operation: {
      summary: "Terminal sessions as asciicast v2, SQL sessions as JSON",
      permission: "connections:use",
      params: ["id"],
      query: ["input"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/verify",
    method: "get",
    operation: {
      summary: "Check the session's hash chain: { ok, events, head, firstBadSeq?, reason? }",
      permission: "connections:use",
      params: ["id"],
    },
  },
  {
    path: "/api/v1/sessions/{id}/evidence",
    method: "get",
    operation: {
      summary: "Evidence bundle: the session, its events, related audit events and the integrity proof",
      permission: "connections:use",
      params: ["id"],
    },
  },
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
    path: "/api/v1/audit/verify",
    method: "get",
    operation: {
      summary: "Check the audit log's hash chain: { ok, events, unchained, head, firstBadSeq?, reason? }",
      permission: "audit:read",
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
];

/** JSON Schema of a request body as the caller sends it (the input side of any transform). */
export function requestSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

function errorReply(description: string) {
  return { description, content: { "application/json": { schema: ERROR_REF } } };
}

function toOperation({ operation }: ApiPath): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(operation.responses ?? { "200": "success" })) {
    responses[status] = { description };
  }
  responses["200"] ??= { description: "success" };
  if (operation.body) responses["400"] = errorReply("the body failed validation (bad_request)");
  responses["401"] = errorReply("no or unknown credentials (unauthenticated)");
  responses["403"] ??= errorReply("missing permission (forbidden)");
  responses["429"] = {
    ...errorReply("too many requests for this token (rate_limited)"),
    headers: { "Retry-After": { schema: { type: "integer" }, description: "seconds to wait" } },
  };
  return {
    summary: operation.summary,
    ...(operation.permission && { description: `Needs permission ${operation.permission}.` }),
    parameters: [
      ...(operation.params ?? []).map(ID),
      ...(operation.query ?? []).map((name) => ({
        name,
        in: "query",
        required: false,
        schema: { type: "string" },
      })),
    ],
    ...(operation.body && {
      requestBody: {
        required: true,
        content: { "application/json": { schema: requestSchema(operation.body) } },
      },
    }),
    responses,
  };
}

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
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "A service account's API token" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: {
                  type: "string",
                  examples: ["bad_request", "unauthenticated", "forbidden", "not_found", "rate_limited"],
                },
                message: { type: "string", description: "fit to show a person" },
                details: { type: "object" },
              },
            },
          },
        },
      },
    },
  };
}
