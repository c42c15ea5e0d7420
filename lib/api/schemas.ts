/**
 * The shapes of the API's main replies, as zod schemas: the OpenAPI document is generated from them
 * (components.schemas), the integration tests parse real replies with them, and the console's fetchers check
 * what they read with them, so the description, the tests and the browser cannot drift from what is sent.
 * Client-safe (no server imports). Not responsible for building replies: the services shape them.
 */
import { z } from "zod";

const isoTime = z.string().describe("ISO 8601 time");

export const errorReplySchema = z.object({
  error: z.object({
    code: z
      .string()
      .meta({ examples: ["bad_request", "unauthenticated", "forbidden", "not_found", "rate_limited"] }),
    message: z.string().describe("fit to show a person"),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const connectionSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["postgres", "ssh"]),
  description: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string().nullable(),
  username: z.string(),
  groups: z.array(z.string()),
  credentials: z
    .object({ password: z.boolean(), privateKey: z.boolean() })
    .describe("which are set; never the values"),
  approvals: z.object({ approverGroups: z.array(z.string()), approvalsRequired: z.number().int() }),
  hostKey: z.string().nullable(),
  hostKeyPinnedAt: isoTime
    .nullable()
    .describe("when the host key was pinned (first use, or an admin trusting a new key); null if unknown"),
  terminal: z
    .object({ idleTimeoutSeconds: z.number().nullable(), maxDurationSeconds: z.number().nullable() })
    .describe("own time limits of browser terminals; null uses the gateway's default"),
  isDemo: z.boolean(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const connectionListSchema = z.object({ connections: z.array(connectionSchema) });

const decisionSchema = z.enum(["allow", "review", "deny"]);

const reasonSchema = z.object({
  statementIndex: z.number().int(),
  statement: z.string(),
  class: z.string(),
  ruleId: z.string().nullable(),
  ruleName: z.string(),
  action: decisionSchema,
  message: z.string(),
});

const policyDecisionSchema = z.object({
  decision: decisionSchema,
  class: z.string(),
  reasons: z.array(reasonSchema),
});

const maskedCellSchema = z
  .tuple([z.number().int(), z.number().int(), z.string()])
  .describe("[row, column, detector type] of a redacted cell");

export const statementResultSchema = z.object({
  statementIndex: z.number().int().optional(),
  statement: z.string(),
  command: z.string(),
  columns: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      table: z.string().optional(),
      lineage: z
        .object({
          type: z.string().describe("the type the column is masked as (its masked source's, or untraced)"),
          sources: z
            .array(z.string())
            .describe("masked source columns it derives from (schema.table.column)"),
          keys: z.array(z.string()).optional().describe("keys masked inside JSON built from rows"),
          reason: z.string().optional().describe("why its lineage could not be traced, when it could not"),
        })
        .optional()
        .describe("set when the column is masked by what it derives from, whatever its name"),
    }),
  ),
  rows: z.array(z.array(z.unknown())).describe("masked values"),
  masked: z.array(maskedCellSchema),
  rowCount: z.number().int(),
  truncated: z.boolean(),
  rowLimit: z.number().int().optional(),
  durationMs: z.number().optional(),
});

const lastResultFields = {
  columns: statementResultSchema.shape.columns,
  rows: statementResultSchema.shape.rows,
  masked: statementResultSchema.shape.masked,
  truncated: z.boolean(),
};

export const execDoneSchema = z
  .object({
    status: z.literal("done"),
    sessionId: z.string(),
    reviewId: z.string().optional().describe("set when a held request ran after approval (Prefer: wait)"),
    decision: policyDecisionSchema,
    results: z
      .array(statementResultSchema)
      .optional()
      .describe("with several statements only: each statement's result, in order"),
    ...statementResultSchema.partial().shape,
    ...lastResultFields,
  })
  .describe(
    "Ran: the masked result at the top level (columns/rows/masked/truncated). With one statement its details " +
      "(statement, command, rowCount, durationMs) are at the top level too and there is no `results`; with " +
      "several, `results` lists each and the top level repeats the last.",
  );

export const execHeldSchema = z
  .object({
    status: z.literal("pending_review"),
    sessionId: z.string(),
    reviewId: z.string(),
    decision: policyDecisionSchema,
    reasons: z.array(reasonSchema),
  })
  .describe("Held for a person's approval: poll GET /api/v1/reviews/{reviewId}, or wait with Prefer: wait=N");

export const execRefusedSchema = z
  .object({
    status: z.enum(["blocked", "denied", "failed", "expired", "cancelled"]),
    sessionId: z.string(),
    reviewId: z.string().optional(),
    reasons: z.array(reasonSchema).optional(),
    classReasons: z
      .array(z.string())
      .optional()
      .describe("blocked: why the classifier gave the refused statements their class"),
    error: z.object({ code: z.string(), message: z.string(), position: z.number().int().optional() }),
  })
  .describe(
    "Blocked by policy or denied by a person (403), failed on the target (422), review expired or cancelled (409)",
  );

export const checkResultSchema = policyDecisionSchema.extend({
  statements: z.array(
    z.object({
      index: z.number().int(),
      class: z.string(),
      kind: z.string(),
      tables: z.array(z.string()).describe("tables it reads or changes, including those behind views"),
      reasons: z
        .array(z.string())
        .describe("why it got its class; the last one says when the target's catalog was consulted"),
    }),
  ),
});

export const reviewSchema = z.object({
  review: z.object({
    id: z.string(),
    state: z.enum(["pending", "approved", "denied", "expired", "cancelled", "executed", "failed"]),
    requester: z.string(),
    connection: z.string(),
    input: z.string(),
    class: z.string(),
    reasons: z.array(z.unknown()),
    note: z.string(),
    createdAt: isoTime,
    expiresAt: isoTime,
    decidedAt: isoTime.nullable(),
    approvalsRequired: z.number().int(),
    decisions: z.array(
      z.object({
        by: z.string(),
        byLabel: z.string(),
        at: isoTime,
        decision: z.enum(["approve", "deny"]),
        comment: z.string(),
      }),
    ),
    sessionId: z.string().nullable(),
    canDecide: z.boolean(),
    isMine: z.boolean(),
    result: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("once executed or failed: the recorded (masked) result event"),
  }),
});

export const sessionSchema = z.object({
  session: z
    .object({
      id: z.string(),
      principalLabel: z.string(),
      connectionName: z.string(),
      kind: z.enum(["sql", "terminal"]),
      channel: z.string(),
      state: z.enum(["live", "ended", "failed"]),
    })
    .catchall(z.unknown()),
  events: z.array(
    z
      .object({
        id: z.number().int(),
        at: z.unknown(),
        type: z.string(),
        data: z.record(z.string(), z.unknown()),
      })
      .catchall(z.unknown()),
  ),
  nextAfter: z.number().int().optional().describe("pass as ?after= for the next page; absent on the last"),
});

const credentialSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe("first characters, to recognise it"),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

export const serviceAccountListSchema = z.object({
  serviceAccounts: z.array(
    z
      .object({
        id: z.string(),
        name: z.string(),
        groups: z.array(z.string()),
        tokens: z.array(credentialSchema),
        clientSecrets: z.array(credentialSchema),
      })
      .catchall(z.unknown()),
  ),
});

export const tokenCreatedSchema = z
  .object({
    tokenId: z.string(),
    token: z.string().describe("ptc_…; shown once"),
    expiresAt: isoTime.nullable(),
  })
  .catchall(z.unknown());

export const tokenRotatedSchema = tokenCreatedSchema.extend({
  previous: z.object({
    tokenId: z.string(),
    revokedAt: isoTime.optional().describe("without a grace period"),
    worksUntil: isoTime.optional().describe("end of the grace period"),
  }),
});

export const clientSecretCreatedSchema = z.object({
  secretId: z.string(),
  clientId: z.string().describe("the service account's id"),
  clientSecret: z.string().describe("pcs_…; shown once"),
  expiresAt: isoTime.nullable(),
});

export const accessTokenSchema = z.object({
  access_token: z.string().describe("pta_…; send as Authorization: Bearer"),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int().describe("seconds"),
  scope: z.string().optional().describe("present when the token was narrowed"),
});

export const oauthErrorSchema = z.object({
  error: z.enum([
    "invalid_request",
    "invalid_client",
    "invalid_scope",
    "unsupported_grant_type",
    "rate_limited",
  ]),
  error_description: z.string(),
});

/** The reply to ending a live native or terminal session. */
export const sessionEndedSchema = z.object({
  ok: z.boolean(),
  ended: z
    .boolean()
    .describe("its end is recorded (false: the process holding it had not recorded it within 5 s)"),
});

/** Named schemas, as they appear under components.schemas. */
export const RESPONSE_SCHEMAS = {
  Error: errorReplySchema,
  ConnectionList: connectionListSchema,
  Connection: z.object({ connection: connectionSchema }),
  ExecDone: execDoneSchema,
  ExecHeld: execHeldSchema,
  ExecRefused: execRefusedSchema,
  CheckResult: checkResultSchema,
  Review: reviewSchema,
  Session: sessionSchema,
  SessionEnded: sessionEndedSchema,
  ServiceAccountList: serviceAccountListSchema,
  TokenCreated: tokenCreatedSchema,
  TokenRotated: tokenRotatedSchema,
  ClientSecretCreated: clientSecretCreatedSchema,
  AccessToken: accessTokenSchema,
  OAuthError: oauthErrorSchema,
} satisfies Record<string, z.ZodType>;

export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

export type Connection = z.infer<typeof connectionSchema>;
export type ExecDone = z.infer<typeof execDoneSchema>;
export type ExecHeld = z.infer<typeof execHeldSchema>;
export type ExecRefused = z.infer<typeof execRefusedSchema>;
/** One statement's masked result in an exec reply. */
export type ExecStatementResult = z.infer<typeof statementResultSchema>;
export type ServiceAccountList = z.infer<typeof serviceAccountListSchema>;
