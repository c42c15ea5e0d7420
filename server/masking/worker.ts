// A masking worker thread: masks chunks of a result's scanned strings for the pool in ./pool.ts, so a large
// result is masked on another core while the main thread goes on reading rows from the target. Strings in,
// only the changed ones out: the rows themselves never cross threads. Holds no state but the configs it was
// sent (each compiled once). Started with tsx and the server-only hook (see ./pool.ts).
import { parentPort } from "node:worker_threads";
import { decodeValues, encodeMasked, type WireChunk } from "./chunk-wire";
import { maskChunk, ResultMasker } from "./mask-rows";
import type { ColumnRef, MaskingConfig } from "./types";

export interface MaskJob {
  id: number;
  configKey: string;
  /** sent with the first job that uses it */
  config?: MaskingConfig;
  columns: ColumnRef[];
  /** scanned strings (ResultMasker.isScannedString), joined (./chunk-wire.ts), and the column of each */
  values: string;
  count: number;
  cols: Int32Array<ArrayBuffer>;
}

export type MaskJobReply = ({ id: number } & WireChunk) | { id: number; error: string };

const configs = new Map<string, MaskingConfig>();

parentPort?.on("message", (job: MaskJob) => {
  try {
    if (job.config) configs.set(job.configKey, job.config);
    const config = configs.get(job.configKey);
    if (!config) throw new Error("the masking configuration was not sent to this worker");
    if (configs.size > 64) {
      for (const key of configs.keys()) if (key !== job.configKey) configs.delete(key);
    }
    const values = decodeValues(job.values, job.count);
    const reply = encodeMasked(maskChunk(new ResultMasker(job.columns, config), values, job.cols));
    parentPort?.postMessage({ id: job.id, ...reply } satisfies MaskJobReply, [reply.changed.buffer]);
  } catch (err) {
    parentPort?.postMessage({
      id: job.id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies MaskJobReply);
  }
});
