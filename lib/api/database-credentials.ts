/**
 * The console's calls about a person's database credentials for native clients (psql, drivers): issue one
 * for a connection (its password in this reply only), revoke one. Client-safe.
 */

import { z } from "zod";
import { apiPath, callApi } from "./client";

export const databaseCredentialIssuedSchema = z.object({
  id: z.string(),
  password: z.string(),
  expiresAt: z.string(),
  host: z.string(),
  port: z.number(),
  dbname: z.string(),
  user: z.string(),
  psql: z.string(),
  uri: z.string(),
});
export type DatabaseCredentialIssued = z.infer<typeof databaseCredentialIssuedSchema>;

export const databaseCredentialsApi = {
  issue: async (body: { connection: string; validForSeconds: number }) =>
    callApi(apiPath`/api/v1/me/database-credentials`, { body, schema: databaseCredentialIssuedSchema }),
  revoke: async (id: string) => callApi(apiPath`/api/v1/me/database-credentials/${id}`, { method: "DELETE" }),
};
