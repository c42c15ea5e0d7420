/**
 * The console's calls about connections: create, edit, delete, test, the SSH host key, the masking settings,
 * the policy check, the owner reviewing access, and the editor's catalog and history. Every path is built by
 * `apiPath` (names escaped as one segment) and every reply the console reads is checked. Client-safe. Not
 * responsible for running SQL (exec.ts) nor for how a page shows the outcome.
 */
import { z } from "zod";
import { apiPath, callApi } from "./client";
import { checkResultSchema, connectionSchema } from "./schemas";

export const connectionReplySchema = z.object({ connection: connectionSchema });

export const connectionTestSchema = z.object({
  result: z.object({
    ok: z.boolean(),
    message: z.string(),
    stage: z.string().optional(),
    hostKey: z.string().optional(),
  }),
});
export type ConnectionTestResult = z.infer<typeof connectionTestSchema>["result"];

const maskingStyleSchema = z.enum(["full", "partial", "pseudonym"]);
export const maskingSettingsReplySchema = z.object({
  masking: z.object({
    enabledTypes: z.array(z.string()).optional(),
    styles: z.record(z.string(), maskingStyleSchema),
    defaultStyle: maskingStyleSchema,
    columnRules: z.array(z.object({ pattern: z.string(), type: z.string() })),
    isDefault: z.boolean(),
  }),
});
export type MaskingStyle = z.infer<typeof maskingStyleSchema>;
export type MaskingSettings = z.infer<typeof maskingSettingsReplySchema>["masking"];

const columnSchema = z.object({
  name: z.string(),
  type: z.string(),
  lineage: z
    .object({
      type: z.string(),
      sources: z.array(z.string()),
      keys: z.array(z.string()).optional(),
      reason: z.string().optional(),
    })
    .optional(),
});
export const catalogSchema = z.object({
  tables: z.array(z.object({ schema: z.string(), name: z.string(), columns: z.array(columnSchema) })),
});
export type CatalogTable = z.infer<typeof catalogSchema>["tables"][number];

export const historySchema = z.object({
  items: z.array(
    z.object({
      at: z.string(),
      statement: z.string(),
      decision: z.string(),
      status: z.string(),
      rowCount: z.number().nullable(),
      durationMs: z.number().nullable(),
    }),
  ),
});
export type HistoryItem = z.infer<typeof historySchema>["items"][number];

export type CheckResult = z.infer<typeof checkResultSchema>;

export const connectionsApi = {
  create: async (body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/connections`, { body, schema: connectionReplySchema }),
  update: async (name: string, body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/connections/${name}`, { method: "PATCH", body, schema: connectionReplySchema }),
  remove: async (name: string) => callApi(apiPath`/api/v1/connections/${name}`, { method: "DELETE" }),
  test: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/test`, { body: {}, schema: connectionTestSchema }),
  trustHostKey: async (name: string, fingerprint: string) =>
    callApi(apiPath`/api/v1/connections/${name}/host-key`, { body: { fingerprint } }),
  forgetHostKey: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/host-key`, { method: "DELETE" }),
  masking: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/masking`, { schema: maskingSettingsReplySchema }),
  setMasking: async (name: string, body: Record<string, unknown>) =>
    callApi(apiPath`/api/v1/connections/${name}/masking`, {
      method: "PUT",
      body,
      schema: maskingSettingsReplySchema,
    }),
  resetMasking: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/masking`, {
      method: "DELETE",
      schema: maskingSettingsReplySchema,
    }),
  check: async (name: string, input: string) =>
    callApi(apiPath`/api/v1/connections/${name}/check`, { body: { input }, schema: checkResultSchema }),
  catalog: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/schema`, { schema: catalogSchema }),
  history: async (name: string) =>
    callApi(apiPath`/api/v1/connections/${name}/history`, { schema: historySchema }),
  setOwner: async (name: string, group: string | null) =>
    callApi(apiPath`/api/v1/access/owners/${name}`, { method: "PUT", body: { group } }),
};
