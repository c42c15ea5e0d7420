/**
 * Group commit for the recorder: writes that arrive while the store is committing wait together and go to the
 * store as one transaction (one commit, one WAL flush), instead of one commit each. A write that finds the store
 * idle goes at once, alone: nothing waits for a timer. Each write's promise settles only when the transaction
 * holding it has committed, so a caller released by it has its own event durable, exactly as with one commit per
 * write. Writes keep their arrival order inside a batch, so a session's appends keep their chain order. When the
 * store refuses a batch (one bad event rolls all of it back, or a deadlock with another replica's batch), its
 * writes are run again one by one, so each caller gets its own result or its own error and one bad write costs the
 * others nothing. When the connection fails instead, whether the commit happened is unknown: running the writes
 * again could record them twice, so every caller of the batch is refused.
 * Not responsible for what is written (append.ts) nor how a batch is run on each store (db/prepared.ts).
 */
import "server-only";
import {
  type PreparedCall,
  type PreparedStatement,
  type PreparedValue,
  runPrepared,
  runPreparedBatch,
} from "@/db/prepared";
import { getStore, type Store } from "@/db/store";

/** The most writes in one transaction (a bound on one commit's size, not a wait). */
export const MAX_BATCH = 256;

interface Pending extends PreparedCall {
  /** performance.now() when it was queued */
  queuedAt: number;
  resolve(rows: unknown[]): void;
  reject(err: unknown): void;
}

export interface GroupCommitStats {
  /** transactions committed (a write alone counts as one) */
  commits: number;
  /** writes committed */
  writes: number;
  /** the most writes one transaction held */
  largest: number;
  /** summed over writes: milliseconds spent queued behind an earlier commit (where concurrent writes wait) */
  queuedMs: number;
  /** summed over writes: milliseconds from their commit's start to its end */
  committingMs: number;
}

/** One queue per process, shared through globalThis: the custom server and the Next.js bundle load this twice. */
interface Committer {
  queue: Pending[];
  draining: boolean;
  stats: GroupCommitStats;
}
const COMMITTER = Symbol.for("portcullis.recording.group-commit");
const holder = globalThis as { [COMMITTER]?: Committer };
holder[COMMITTER] ??= {
  queue: [],
  draining: false,
  stats: { commits: 0, writes: 0, largest: 0, queuedMs: 0, committingMs: 0 },
};
const committer: Committer = holder[COMMITTER];
const { queue, stats } = committer;

/** How many commits the recorder has made for how many writes (for benchmarks and tests). */
export function groupCommitStats(): GroupCommitStats {
  return { ...stats };
}

/** Runs `statement` with `values` in the next commit and returns its rows once that commit is durable. */
export function commitWrite<T>(statement: PreparedStatement, values: readonly PreparedValue[]): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    queue.push({
      statement,
      values,
      queuedAt: performance.now(),
      resolve: resolve as (rows: unknown[]) => void,
      reject,
    });
    if (!committer.draining) void drain();
  });
}

async function drain() {
  committer.draining = true;
  try {
    while (queue.length > 0) {
      let store: Store;
      try {
        store = await getStore();
      } catch (err) {
        // The store cannot be opened: everyone waiting is refused with the reason.
        for (const pending of queue.splice(0)) pending.reject(err);
        continue;
      }
      const batch = queue.splice(0, MAX_BATCH);
      const started = performance.now();
      await commitBatch(store, batch);
      const ended = performance.now();
      for (const pending of batch) {
        stats.queuedMs += started - pending.queuedAt;
        stats.committingMs += ended - started;
      }
    }
  } finally {
    committer.draining = false;
  }
}

async function commitBatch(store: Store, batch: Pending[]) {
  if (batch.length === 1) {
    const [only] = batch as [Pending];
    await runPrepared<unknown>(store, only.statement, only.values).then(only.resolve, only.reject);
    count(1);
    return;
  }
  let results: unknown[][];
  try {
    results = await runPreparedBatch<unknown>(store, batch);
  } catch (err) {
    if (!isRolledBack(err)) {
      // The connection failed: whether the COMMIT happened is unknown, so running the writes again could store
      // them twice. Every caller is refused with the error (the request fails closed, as with one write).
      for (const pending of batch) pending.reject(err);
      return;
    }
    // Nothing of the batch was kept: each write again on its own, so each caller learns its own outcome.
    for (const pending of batch) {
      await runPrepared<unknown>(store, pending.statement, pending.values).then(
        pending.resolve,
        pending.reject,
      );
      count(1);
    }
    return;
  }
  count(batch.length);
  batch.forEach((pending, i) => {
    pending.resolve(results[i] ?? []);
  });
}

/**
 * True when the store itself refused the batch (a SQLSTATE outside connection failures): its transaction was
 * rolled back. A driver error (a closed connection) or a connection failure class leaves the outcome unknown.
 */
function isRolledBack(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return !code.startsWith("08") && !code.startsWith("57P") && code !== "40003"; // 40003: statement_completion_unknown
}

function count(writes: number) {
  stats.commits += 1;
  stats.writes += writes;
  stats.largest = Math.max(stats.largest, writes);
}
