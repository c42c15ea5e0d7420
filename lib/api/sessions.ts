/**
 * The console's reads of a recorded session: replay chunks and search for the terminal player, and the
 * download links (export, evidence). Client-safe. Not responsible for reading the recording (server/terminal
 * replay.ts) nor for drawing it (components/replay).
 */
import { z } from "zod";
import { apiPath, callApi, queryString } from "./client";
import { sessionEndedSchema } from "./schemas";

export const replayEventSchema = z.discriminatedUnion("type", [
  z.object({ id: z.number(), t: z.number(), type: z.literal("output"), data: z.string() }),
  z.object({ id: z.number(), t: z.number(), type: z.literal("resize"), cols: z.number(), rows: z.number() }),
]);

export const replayChunkSchema = z.object({
  keyframe: z
    .object({ id: z.number(), t: z.number(), cols: z.number(), rows: z.number(), screen: z.string() })
    .nullable()
    .describe("the screen to start from; null: an empty terminal of cols x rows"),
  cols: z.number(),
  rows: z.number(),
  events: z.array(replayEventSchema),
  next: z.number().nullable().describe("pass as `after` for the next chunk; null when there is no more"),
});

export const replaySearchSchema = z.object({
  hits: z.array(z.object({ t: z.number(), eventId: z.number(), context: z.string() })),
});

export type ReplayEvent = z.infer<typeof replayEventSchema>;
export type ReplayChunk = z.infer<typeof replayChunkSchema>;
export type SearchHit = z.infer<typeof replaySearchSchema>["hits"][number];

/** A chunk read after `after` carries only the events from there on and where to go next. */
const replayAfterSchema = replayChunkSchema.pick({ events: true, next: true });

export const sessionsApi = {
  /** The screen at `at` (nearest keyframe and the output from there). */
  replayAt: async (sessionId: string, at: number) =>
    callApi(`${apiPath`/api/v1/sessions/${sessionId}/replay`}${queryString({ at })}`, {
      schema: replayChunkSchema,
      cache: "no-store",
    }),
  /** The output after event `after`, from time `from` on. */
  replayAfter: async (sessionId: string, after: number, from: number) =>
    callApi(`${apiPath`/api/v1/sessions/${sessionId}/replay`}${queryString({ after, from })}`, {
      schema: replayAfterSchema,
      cache: "no-store",
    }),
  search: async (sessionId: string, q: string) =>
    callApi(`${apiPath`/api/v1/sessions/${sessionId}/search`}${queryString({ q })}`, {
      schema: replaySearchSchema,
      cache: "no-store",
    }),
  exportHref: (sessionId: string) => apiPath`/api/v1/sessions/${sessionId}/export`,
  evidenceHref: (sessionId: string) => apiPath`/api/v1/sessions/${sessionId}/evidence`,
};

export const liveSessionsApi = {
  /** Ends a live native (psql, driver) session: its client is closed with 57P01. */
  endNative: async (sessionId: string) =>
    callApi(apiPath`/api/v1/native-sessions/${sessionId}`, { method: "DELETE", schema: sessionEndedSchema }),
  /** Ends a live browser terminal. */
  endTerminal: async (sessionId: string) =>
    callApi(apiPath`/api/v1/terminals/${sessionId}`, { method: "DELETE", schema: sessionEndedSchema }),
};
