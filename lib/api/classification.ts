/**
 * The console's calls about a connection's data classification: read the overview, switch applying proposed
 * classifications, start a scan, decide one classification. Client-safe. Not responsible for the overview's
 * rows beyond the scan state the page polls (the page holds the server's full view type).
 */
import { z } from "zod";
import { apiPath, callApi } from "./client";

export const scanSchema = z.object({
  state: z.enum(["idle", "running", "done", "failed"]),
  tablesDone: z.number(),
  tablesTotal: z.number(),
  tablesSkipped: z.number(),
  error: z.string().nullable(),
  by: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type ScanState = z.infer<typeof scanSchema>;

export const classificationOverviewSchema = z.looseObject({
  applyProposed: z.boolean(),
  scan: scanSchema,
  classifications: z.array(z.unknown()),
});

export const classificationApi = {
  overview: async (connection: string) =>
    callApi(apiPath`/api/v1/connections/${connection}/classification`, {
      schema: classificationOverviewSchema,
    }),
  setApplyProposed: async (connection: string, applyProposed: boolean) =>
    callApi(apiPath`/api/v1/connections/${connection}/classification`, {
      method: "PUT",
      body: { applyProposed },
      schema: classificationOverviewSchema,
    }),
  scan: async (connection: string) =>
    callApi(apiPath`/api/v1/connections/${connection}/classification/scan`, {
      method: "POST",
      schema: z.object({ scan: scanSchema }),
    }),
  decide: async (connection: string, id: string, body: { action: string; type?: string }) =>
    callApi(apiPath`/api/v1/connections/${connection}/classification/${id}`, { body }),
};
