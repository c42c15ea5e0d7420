/**
 * The console's reads of a recorded session: replay chunks and search for the terminal player, and the
 * download links (export, evidence). Client-safe. Not responsible for the replay's event shapes beyond what
 * the player checks (components/replay).
 */
import { z } from "zod";
import { apiPath, callApi, queryString } from "./client";

export const replayChunkSchema = z.looseObject({
  events: z.array(z.unknown()),
  next: z.number().nullable(),
});

export const sessionsApi = {
  replay: (sessionId: string, query: { after?: number; from?: number; at?: number }) =>
    callApi(`${apiPath`/api/v1/sessions/${sessionId}/replay`}${queryString(query)}`, {
      schema: replayChunkSchema,
      cache: "no-store",
    }),
  search: (sessionId: string, q: string) =>
    callApi(`${apiPath`/api/v1/sessions/${sessionId}/search`}${queryString({ q })}`, {
      schema: z.object({ hits: z.array(z.unknown()) }),
      cache: "no-store",
    }),
  exportHref: (sessionId: string) => apiPath`/api/v1/sessions/${sessionId}/export`,
  evidenceHref: (sessionId: string) => apiPath`/api/v1/sessions/${sessionId}/evidence`,
};
