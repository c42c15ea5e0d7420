// Masking large results off the main thread. A small pool of worker threads (./worker.ts) masks batches of
// rows while the main thread keeps reading the next batch from the target, so reading and masking overlap and
// use more than one core. Batches below OFFLOAD_ROWS are masked inline (a worker round trip would cost more).
// The output is exactly maskRows over all the rows (masking a cell depends only on its value, its column and
// the config). Fail closed: a batch that a worker cannot mask fails the whole result; nothing unmasked is
// returned. Not responsible for what is masked: that is maskRows.
import "server-only";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { processSingleton } from "@/server/singleton";
import { maskRows } from "./mask-rows";
import type { ColumnRef, MaskedCell, MaskingConfig, MaskRowsResult } from "./types";
import type { MaskJob, MaskJobReply } from "./worker";

/** Batches smaller than this are masked inline. */
export const OFFLOAD_ROWS = 1000;

/**
 * Worker threads: MASK_WORKERS, else one per core beyond the first two (at most 4); 0 masks everything inline.
 * On two cores the workers compete with the thread reading the target and gave no gain (bench:sql), so none run.
 */
export function maskWorkerCount(): number {
  const configured = process.env.MASK_WORKERS;
  if (configured !== undefined && configured !== "") {
    const n = Number(configured);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, 16) : 0;
  }
  return Math.max(0, Math.min(4, availableParallelism() - 2));
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Pending {
  resolve(reply: { rows: unknown[][]; masked: MaskedCell[] }): void;
  reject(err: Error): void;
  slot: Slot;
}

class MaskPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly sentConfigs = new WeakMap<Worker, Set<string>>();
  private readonly configKeys = new WeakMap<MaskingConfig, string>();
  private nextId = 1;
  /** batches masked by a worker, and batches a failed worker left to be masked inline */
  readonly stats = { offloaded: 0, fellBack: 0 };

  constructor(readonly size: number) {}

  private spawn(): Slot {
    // The entry registers TypeScript loading and the `server-only` hook in the thread, then loads ./worker.ts.
    // The path is built at run time: Next's bundler must not try to bundle the worker (it runs from source).
    const entry = [process.cwd(), "server", "masking", "worker-entry.mjs"].join(path.sep);
    const WorkerThread = Worker;
    const worker = new WorkerThread(entry, {
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
      env: process.env,
    });
    worker.unref();
    const slot: Slot = { worker, inFlight: 0 };
    worker.on("message", (reply: MaskJobReply) => {
      const job = this.pending.get(reply.id);
      if (!job) return;
      this.pending.delete(reply.id);
      slot.inFlight--;
      if ("error" in reply) job.reject(new Error(`masking failed in a worker: ${reply.error}`));
      else {
        this.stats.offloaded++;
        job.resolve({ rows: reply.rows, masked: reply.masked });
      }
    });
    const fail = (err: Error) => {
      const at = this.slots.indexOf(slot);
      if (at !== -1) this.slots.splice(at, 1);
      for (const [id, job] of this.pending) {
        if (job.slot !== slot) continue;
        this.pending.delete(id);
        job.reject(err);
      }
    };
    worker.on("error", (err) => fail(err));
    worker.on("exit", (code) => fail(new Error(`a masking worker stopped (exit code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private configKey(config: MaskingConfig): string {
    let key = this.configKeys.get(config);
    if (!key) {
      key = createHash("sha256").update(JSON.stringify(config)).digest("hex");
      this.configKeys.set(config, key);
    }
    return key;
  }

  /** Masks `rows` on the least busy worker (starting one while fewer than `size` run). */
  mask(columns: ColumnRef[], rows: unknown[][], config: MaskingConfig) {
    let slot = this.slots.reduce<Slot | undefined>(
      (best, s) => (best === undefined || s.inFlight < best.inFlight ? s : best),
      undefined,
    );
    if (!slot || (slot.inFlight > 0 && this.slots.length < this.size)) slot = this.spawn();
    const id = this.nextId++;
    const configKey = this.configKey(config);
    const sent = this.sentConfigs.get(slot.worker) ?? new Set<string>();
    this.sentConfigs.set(slot.worker, sent);
    const job: MaskJob = { id, configKey, columns, rows, ...(!sent.has(configKey) && { config }) };
    sent.add(configKey);
    const target = slot;
    return new Promise<{ rows: unknown[][]; masked: MaskedCell[] }>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot: target });
      target.inFlight++;
      target.worker.postMessage(job);
    });
  }

  /** Starts the workers ahead of the first large result (their start-up compiles the masking code). */
  warm(): void {
    while (this.slots.length < this.size) this.spawn();
  }

  async close(): Promise<void> {
    const workers = this.slots.splice(0).map((s) => s.worker);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

let warned = false;
function warnOnce(err: Error) {
  if (warned) return;
  warned = true;
  console.warn(`[portcullis] masking inline instead of in a worker thread: ${err.message}`);
}

const pool = processSingleton("maskPool", () => new MaskPool(maskWorkerCount()));

/** Starts the masking workers now (the gateway calls this at start-up). */
export function warmMaskWorkers(): void {
  if (pool.size > 0) pool.warm();
}

/** How many batches workers masked, and how many a failed worker left to be masked inline. */
export function maskPoolStats(): { workers: number; offloaded: number; fellBack: number } {
  return { workers: pool.size, ...pool.stats };
}

export async function closeMaskWorkers(): Promise<void> {
  await pool.close();
}

/**
 * Masks one statement's rows batch by batch as they arrive: `push` each batch in order, then `result()` gives
 * what maskRows would give for all of them (rows in order, masked cells with their row numbers in the whole
 * result). Large batches go to the worker pool; small ones are masked inline.
 */
export class BatchMasker {
  private readonly parts: Promise<MaskRowsResult>[] = [];
  private offset = 0;
  /** Milliseconds spent masking batches on this thread (the rest of the time is the caller's). */
  inlineMs = 0;

  constructor(
    private readonly columns: ColumnRef[],
    private readonly config: MaskingConfig,
  ) {}

  /** Hands a batch over: the masker may overwrite its cells with their masked values. */
  push(rows: unknown[][]): void {
    const offset = this.offset;
    this.offset += rows.length;
    const { columns, config } = this;
    const inline = pool.size === 0 || rows.length < OFFLOAD_ROWS;
    const part = inline
      ? // The batch is the masker's own (handed over by push): masked in place, without copies.
        this.maskHere(rows, offset)
      : // A worker that fails (it could not start, or stopped) leaves the batch to be masked here.
        pool.mask(columns, rows, config).catch((err: Error) => {
          pool.stats.fellBack++;
          warnOnce(err);
          return maskRows(columns, rows, config);
        });
    this.parts.push(
      inline
        ? part
        : part.then((r) => ({
            rows: r.rows,
            masked: offset === 0 ? r.masked : r.masked.map(([row, col, type]) => [row + offset, col, type]),
          })),
    );
    // Failures surface in result(); until then nobody awaits this promise.
    this.parts.at(-1)?.catch(() => {});
  }

  /** Masks a batch on this thread; its masked cells are numbered from `rowOffset`, their place in the result. */
  private maskHere(rows: unknown[][], rowOffset: number): Promise<MaskRowsResult> {
    const started = performance.now();
    try {
      return Promise.resolve(maskRows(this.columns, rows, this.config, { inPlace: true, rowOffset }));
    } catch (err) {
      return Promise.reject(err);
    } finally {
      this.inlineMs += performance.now() - started;
    }
  }

  async result(): Promise<MaskRowsResult> {
    const parts = await Promise.all(this.parts);
    if (parts.length === 1) return parts[0]!;
    const rows: unknown[][] = [];
    const masked: MaskedCell[] = [];
    for (const p of parts) {
      for (const row of p.rows) rows.push(row);
      for (const cell of p.masked) masked.push(cell);
    }
    return { rows, masked };
  }
}
