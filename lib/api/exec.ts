/**
 * Running SQL through the gateway from the console: POST /api/v1/connections/{name}/exec as the editor. Every
 * status carries a body the editor shows (202 held, 403 blocked, 422 failed), so this returns the raw
 * response for the editor's reader (components/editor/exec-client.ts). Client-safe. Not responsible for
 * reading the reply (its shapes are ExecDone, ExecHeld and ExecRefused in schemas.ts).
 */
import { apiPath, sendApi } from "./client";

export interface ExecRequest {
  input: string;
  sessionId?: string;
  runId: string;
  /** Most rows the gateway sends back per statement; it says when it truncated. */
  rowLimit?: number;
}

export const execApi = {
  run: async (connection: string, request: ExecRequest, signal?: AbortSignal) =>
    sendApi(apiPath`/api/v1/connections/${connection}/exec`, {
      body: request,
      // Records the session as the console's editor rather than a plain API caller.
      headers: { "x-portcullis-client": "editor" },
      signal,
    }),
};
