// Masking large results off the main thread. Worker threads (./worker.ts) mask the scanned strings of a result
// (the cells the detectors read; ResultMasker.isScannedString) while the main thread keeps reading the next
// batch from the target, so reading and masking overlap and use more than one core. Only strings cross threads:
// a batch's scanned strings go out in chunks and only the changed ones come back, written into the rows here;
// every other cell (column rules, JSON values, numbers) is masked on this thread as the batch arrives. Chunks
// no worker has taken when the last batch is in are masked on this thread too, so both cores finish together.
// Batches below OFFLOAD_ROWS are masked inline (a worker round trip would cost more).
// The output is exactly maskRows over all the rows (masking a cell depends only on its value, its column and
// the config). Fail closed: a chunk that a worker cannot mask is masked here; nothing unmasked is returned.
// Not responsible for what is masked: that is maskRows.
import "server-only";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { getSettings } from "@/server/config";
import { processSingleton } from "@/server/singleton";
import { decodeMasked, encodeValues } from "./chunk-wire";
import { type MaskedChunk, maskChunk, ResultMasker } from "./mask-rows";
import type { ColumnRef, MaskedCell, MaskingConfig, MaskRowsResult } from "./types";
import type { MaskJob, MaskJobReply } from "./worker";

/** Batches smaller than this are masked inline. */
export const OFFLOAD_ROWS = 1000;
/** Scanned strings per chunk: a few milliseconds of masking, so the work shares out evenly at the end. */
export const CHUNK_VALUES = 4096;
/** Chunks a worker holds at once (one being masked, the next waiting), so it does not wait for this thread. */
const WORKER_DEPTH = 2;

/**
 * Worker threads: MASK_WORKERS, else one per core beyond the first two (at most 4); 0 masks everything inline.
 * On two cores the target, the client and the console already share both: a worker slowed the reading as much
 * as it sped up the masking (bench:sql, 100,000 masked rows: 1.55-1.77 s with one, 1.74-1.78 s without).
 */
export function maskWorkerCount(): number {
  const configured = getSettings().maskWorkers;
  if (configured !== undefined) return configured;
  return Math.max(0, Math.min(4, availableParallelism() - 2));
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Pending {
  resolve(reply: MaskedChunk): void;
  reject(err: Error): void;
  slot: Slot;
}

class MaskPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly sentConfigs = new WeakMap<Worker, Set<string>>();
  private readonly configKeys = new WeakMap<MaskingConfig, string>();
  private nextId = 1;
  /** chunks masked by a worker, chunks a failed worker left to this thread, chunks this thread took at the end */
  readonly stats = { offloaded: 0, fellBack: 0, keptHere: 0 };

  constructor(readonly size: number) {}

  private spawn(): Slot {
    // The entry registers TypeScript loading and the `server-only` hook in the thread, then loads ./worker.ts.
    // The path is built at run time: Next's bundler must not try to bundle the worker (it runs from source).
    const entry = [process.cwd(), "server", "masking", "worker-entry.mjs"].join(path.sep);
    const WorkerThread = Worker;
    const worker = new WorkerThread(entry, {
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
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
        try {
          job.resolve(decodeMasked(reply));
          this.stats.offloaded++;
        } catch (err) {
          job.reject(err instanceof Error ? err : new Error(String(err)));
        }
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

  /**
   * Hands a chunk to the least busy worker with room (starting one while fewer than `size` run); undefined when
   * every worker already holds WORKER_DEPTH chunks.
   */
  tryMask(
    columns: ColumnRef[],
    values: string[],
    columnsOf: readonly number[],
    config: MaskingConfig,
  ): Promise<MaskedChunk> | undefined {
    let slot = this.slots.reduce<Slot | undefined>(
      (best, s) => (best === undefined || s.inFlight < best.inFlight ? s : best),
      undefined,
    );
    if (!slot || (slot.inFlight > 0 && this.slots.length < this.size)) slot = this.spawn();
    if (slot.inFlight >= WORKER_DEPTH) return undefined;
    // Built only now that a worker takes it (transferred, so the buffer is the worker's).
    const cols = Int32Array.from(columnsOf);
    const id = this.nextId++;
    const configKey = this.configKey(config);
    const sent = this.sentConfigs.get(slot.worker) ?? new Set<string>();
    this.sentConfigs.set(slot.worker, sent);
    const job: MaskJob = {
      id,
      configKey,
      columns,
      values: encodeValues(values),
      count: values.length,
      cols,
      ...(!sent.has(configKey) && { config }),
    };
    sent.add(configKey);
    const target = slot;
    return new Promise<MaskedChunk>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot: target });
      target.inFlight++;
      target.worker.postMessage(job, [cols.buffer]);
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

/** How many chunks workers masked, how many a failed worker left to this thread, how many this thread took. */
export function maskPoolStats(): { workers: number; offloaded: number; fellBack: number; keptHere: number } {
  return { workers: pool.size, ...pool.stats };
}

export async function closeMaskWorkers(): Promise<void> {
  await pool.close();
}

interface Batch {
  rows: unknown[][];
  /** the batch's first row in the whole result */
  offset: number;
  /** cells masked on this thread as the batch arrived, numbered in the whole result */
  masked: MaskedCell[];
  chunks: Chunk[];
}

interface Chunk {
  batch: Batch;
  values: string[];
  /** row (within the batch) and column of each value */
  rows: number[];
  cols: number[];
  result?: MaskedChunk;
  /** settles when a worker has masked the chunk, or this thread did after the worker failed */
  done?: Promise<void>;
}

/**
 * Masks one statement's rows batch by batch as they arrive: `push` each batch in order, then `result()` gives
 * what maskRows would give for all of them (rows in order, masked cells with their row numbers in the whole
 * result). With workers, a batch's scanned strings go to them in chunks; the rest is masked here at once.
 */
export class BatchMasker {
  private readonly masker: ResultMasker;
  private readonly batches: Batch[] = [];
  /** chunks no worker has taken yet, oldest first */
  private readonly queue: Chunk[] = [];
  private offset = 0;
  /** Milliseconds spent masking on this thread while batches were pushed (the rest of the time is the caller's). */
  inlineMs = 0;

  constructor(
    private readonly columns: ColumnRef[],
    private readonly config: MaskingConfig,
  ) {
    this.masker = new ResultMasker(columns, config);
  }

  /** Hands a batch over: the masker may overwrite its cells with their masked values. */
  push(rows: unknown[][]): void {
    const started = performance.now();
    const batch: Batch = { rows, offset: this.offset, masked: [], chunks: [] };
    this.offset += rows.length;
    this.batches.push(batch);
    try {
      if (pool.size === 0 || rows.length < OFFLOAD_ROWS) {
        batch.masked = this.masker.maskRows(rows, { inPlace: true, rowOffset: batch.offset }).masked;
        return;
      }
      let chunk: Chunk | undefined;
      batch.masked = this.masker.maskRows(rows, {
        inPlace: true,
        rowOffset: batch.offset,
        scannedStrings: (value, row, col) => {
          if (chunk === undefined || chunk.values.length === CHUNK_VALUES) {
            chunk = { batch, values: [], rows: [], cols: [] };
            batch.chunks.push(chunk);
            this.queue.push(chunk);
          }
          chunk.values.push(value);
          chunk.rows.push(row);
          chunk.cols.push(col);
        },
      }).masked;
      this.dispatch();
    } catch (err) {
      // Surfaces in result(): a batch that cannot be masked fails the whole result.
      this.failure ??= err instanceof Error ? err : new Error(String(err));
    } finally {
      this.inlineMs += performance.now() - started;
    }
  }

  private failure: Error | undefined;

  /** Hands queued chunks to workers while they have room. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const sent = pool.tryMask(this.columns, chunk.values, chunk.cols, this.config);
      if (!sent) return;
      this.queue.shift();
      chunk.done = sent.then(
        (result) => {
          chunk.result = result;
          this.dispatch();
        },
        (err: Error) => {
          // A worker that fails (it could not start, or stopped) leaves the chunk to be masked here.
          pool.stats.fellBack++;
          warnOnce(err);
          this.maskHere(chunk);
        },
      );
    }
  }

  private maskHere(chunk: Chunk): void {
    chunk.result = maskChunk(this.masker, chunk.values, chunk.cols);
  }

  async result(): Promise<MaskRowsResult> {
    // Chunks no worker has taken are masked here, newest first (the workers take the oldest), one at a time
    // with a turn of the event loop between them so that replies are read and workers kept busy.
    while (this.queue.length > 0) {
      if (this.failure) break;
      this.maskHere(this.queue.pop()!);
      pool.stats.keptHere++;
      if (this.queue.length > 0) await nextTurn();
    }
    if (this.failure) throw this.failure;
    const batches = this.batches;
    await Promise.all(batches.flatMap((b) => b.chunks.map((c) => c.done)));
    const rows: unknown[][] = [];
    const masked: MaskedCell[] = [];
    for (const batch of batches) {
      const fromChunks = applyChunks(batch);
      mergeCells(batch.masked, fromChunks, this.columns.length, masked);
      if (batches.length === 1) return { rows: batch.rows, masked };
      for (const row of batch.rows) rows.push(row);
    }
    return { rows, masked };
  }
}

/** Writes the masked strings of a batch's chunks into its rows; their masked cells, in row order. */
function applyChunks(batch: Batch): MaskedCell[] {
  const cells: MaskedCell[] = [];
  for (const chunk of batch.chunks) {
    const result = chunk.result;
    if (!result) throw new Error("a chunk of the result was not masked");
    for (let k = 0; k < result.changed.length; k++) {
      const i = result.changed[k]!;
      const row = chunk.rows[i]!;
      const col = chunk.cols[i]!;
      batch.rows[row]![col] = result.shown[k];
      for (const type of result.types[k]!) cells.push([batch.offset + row, col, type]);
    }
  }
  return cells;
}

/** Appends to `out` two lists of masked cells, each in row order, merged into row order (no cell is in both). */
function mergeCells(a: MaskedCell[], b: MaskedCell[], width: number, out: MaskedCell[]): void {
  if (a.length === 0 || b.length === 0) {
    for (const cell of a.length === 0 ? b : a) out.push(cell);
    return;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x[0] * width + x[1] <= y[0] * width + y[1]) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
}
