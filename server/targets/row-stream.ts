/**
 * Rows of one result read as the target sends them, kept whole while the result is small and streamed past that:
 * once a result passes `keep` rows, its rows go to the caller's `take` batch by batch (the first batch holds the
 * rows kept so far), each batch handed over only after the previous one was taken, and the target's socket
 * paused while more than one batch waits, so a client slower than the target holds the target, never the
 * gateway's memory. A `take` that fails (the client went away, the recorder refused) cancels the query on the
 * target, and the rows still arriving are dropped. Not responsible for what a batch becomes (masking, recording
 * and writing are the caller's), nor for which results may stream (server/pipeline.ts decides).
 */
import "server-only";

/** What a streamed result needs of its caller and of the target's session. */
export interface RowStream {
  /** rows a result keeps before it streams; a result of at most this many is returned whole */
  keep: number;
  /**
   * Takes one batch of the streamed result (`first`: the rows kept so far and the next); resolves once the
   * batch has left (its rows may then be overwritten), rejects to stop the result.
   */
  take(rows: unknown[][], first: boolean): Promise<void>;
}

/** Rows handed over per batch once a result streams (~1 MB of narrow rows: one write to the client). */
export const STREAM_BATCH_ROWS = 5_000;

/** A streamed result its caller stopped (`take` failed): `reason` is what the take threw. */
export class StreamStopped extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/** The target's session as the stream controls it. */
export interface StreamControl {
  /** stop reading from the target (its socket is paused: the target's own send buffer fills, and it waits) */
  pause(): void;
  resume(): void;
  /** cancel the query on the target (the take failed) */
  cancel(): void;
}

/**
 * The rows of a query read through `forEach` (postgres.js), up to `limit` while kept; when `stream` is given,
 * a result past its `keep` rows streams instead (see the module's header) and `streamed` counts its rows.
 * `answered` is what postgres.js resolves with. A failed take is thrown after the query settled (its cancel
 * answered), before the target's own error; a target error after rows streamed is thrown once they have left.
 */
export async function readRows(
  query: { forEach: (fn: (row: unknown) => void) => PromiseLike<unknown> },
  limit: number,
  stream?: { rows: RowStream; control: StreamControl },
): Promise<{ answered: unknown; rows: unknown[][]; truncated: boolean; streamed?: number }> {
  let rows: unknown[][] = [];
  let truncated = false;
  if (!stream) {
    const answered = await query.forEach((row) => {
      if (rows.length < limit) rows.push(row as unknown as unknown[]);
      else truncated = true;
    });
    return { answered, rows, truncated };
  }
  const { rows: sink, control } = stream;
  const keep = Math.max(1, sink.keep);
  let streaming = false;
  let streamed = 0;
  let batch: unknown[][] = [];
  let waiting = 0;
  let paused = false;
  let failure: unknown;
  let chain: Promise<void> = Promise.resolve();
  let first = true;
  const handOver = () => {
    const rowsOut = batch;
    batch = [];
    const isFirst = first;
    first = false;
    waiting++;
    chain = chain
      .then(() => (failure === undefined ? sink.take(rowsOut, isFirst) : undefined))
      .catch((err) => {
        if (failure !== undefined) return;
        failure = err;
        control.cancel();
      })
      .finally(() => {
        waiting--;
        if (paused && (waiting <= 1 || failure !== undefined)) {
          paused = false;
          control.resume();
        }
      });
    if (waiting > 1 && failure === undefined && !paused) {
      paused = true;
      control.pause();
    }
  };
  let answered: unknown;
  let targetError: unknown;
  try {
    answered = await query.forEach((row) => {
      if (failure !== undefined) return;
      if (!streaming) {
        if (rows.length < keep) {
          rows.push(row as unknown as unknown[]);
          return;
        }
        streaming = true;
        batch = rows;
        rows = [];
        streamed = batch.length;
        batch.push(row as unknown as unknown[]);
        streamed++;
        handOver();
        return;
      }
      batch.push(row as unknown as unknown[]);
      streamed++;
      if (batch.length >= STREAM_BATCH_ROWS) handOver();
    });
  } catch (err) {
    targetError = err;
  }
  // The rows that came before the end (or before the target's error) leave first, as PostgreSQL sends them.
  if (streaming && batch.length > 0 && failure === undefined) handOver();
  await chain;
  if (paused) control.resume();
  if (failure !== undefined) throw new StreamStopped(failure);
  if (targetError !== undefined) throw targetError;
  return streaming ? { answered, rows: [], truncated: false, streamed } : { answered, rows, truncated };
}
