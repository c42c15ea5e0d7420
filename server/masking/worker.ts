// A masking worker thread: masks batches of result rows for the pool in ./pool.ts, so a large result is masked
// on other cores while the main thread goes on reading rows from the target. Holds no state but the configs
// it was sent (each compiled once). Started with tsx and the server-only hook (see ./pool.ts).
import { parentPort } from "node:worker_threads";
import { maskRows } from "./mask-rows";
import type { ColumnRef, MaskingConfig } from "./types";

export interface MaskJob {
  id: number;
  configKey: string;
  /** sent with the first job that uses it */
  config?: MaskingConfig;
  columns: ColumnRef[];
  rows: unknown[][];
}

export type MaskJobReply =
  | { id: number; rows: unknown[][]; masked: [number, number, string][] }
  | { id: number; error: string };

const configs = new Map<string, MaskingConfig>();

parentPort?.on("message", (job: MaskJob) => {
  try {
    if (job.config) configs.set(job.configKey, job.config);
    const config = configs.get(job.configKey);
    if (!config) throw new Error("the masking configuration was not sent to this worker");
    if (configs.size > 64) {
      for (const key of configs.keys()) if (key !== job.configKey) configs.delete(key);
    }
    const result = maskRows(job.columns, job.rows, config);
    parentPort?.postMessage({ id: job.id, rows: result.rows, masked: result.masked } satisfies MaskJobReply);
  } catch (err) {
    parentPort?.postMessage({
      id: job.id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies MaskJobReply);
  }
});
