/**
 * COPY ... FROM STDIN on one postgres.js session: the statement sent, the client's data carried to the target
 * as CopyData, then CopyDone (the target's `COPY n`) or CopyFail. postgres.js's `writable()` resolves its query
 * with the stream at CopyInResponse and then drops what follows: the row count of the CommandComplete and an
 * error the target reports after CopyDone (a bad row, a constraint) never reach its caller, whose stream then
 * never finishes. Its connection still hands both to the query (`resolve` with the result at ReadyForQuery,
 * `reject` with the error), so this module listens there: the count and the failure come from the target's own
 * messages. Checked against postgres.js 3.4 by copy-in.int.test.ts and the listener's tests.
 * Not responsible for deciding whether the COPY may run, recording it, or the client's side of the protocol.
 */
import "server-only";
import type { Writable } from "node:stream";
import type postgres from "postgres";

/** A COPY FROM STDIN under way on the target. */
export interface TargetCopyIn {
  /** Sends one piece of the data (CopyData); resolves when the stream can take more. Ignored after a failure. */
  write(chunk: Buffer): Promise<void>;
  /** CopyDone: the rows the target loaded (`COPY n`), or the target's error. */
  end(): Promise<{ rowCount: number }>;
  /** CopyFail with this reason: the target's error (57014 "COPY from stdin failed: ..."), nothing loaded. */
  fail(reason: string): Promise<Error>;
  /** Settles when the target ended the COPY, whoever ended it (the connection closing too): its row count. */
  readonly finished: Promise<number>;
}

interface InternalQuery {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Starts `text` (one COPY ... FROM STDIN) on `sql`: resolves when the target answered CopyInResponse, rejects
 * with the target's error when it refused the statement (no such table, no privilege). `toError` turns
 * postgres.js's errors into the caller's (their SQLSTATE kept).
 */
export async function startCopyIn(
  sql: postgres.Sql,
  text: string,
  toError: (err: unknown) => Error,
): Promise<TargetCopyIn> {
  const query = sql.unsafe(text);
  const internal = query as unknown as InternalQuery;
  let settle!: { resolve: (count: number) => void; reject: (err: Error) => void };
  const finished = new Promise<number>((resolve, reject) => {
    settle = { resolve, reject };
  });
  finished.catch(() => {}); // read by end() or fail(); a failure before either is kept for them
  const openStream = internal.resolve;
  const refuse = internal.reject;
  let opened = false;
  internal.resolve = (value) => {
    if (!opened) {
      opened = true;
      openStream(value);
      return;
    }
    // ReadyForQuery after CopyDone: the result of the COPY, its count from CommandComplete
    const count = (value as { count?: unknown } | undefined)?.count;
    settle.resolve(typeof count === "number" ? count : 0);
  };
  internal.reject = (err) => {
    settle.reject(toError(err));
    refuse(err);
  };
  let stream: Writable;
  try {
    stream = (await query.writable()) as unknown as Writable;
  } catch (err) {
    throw toError(err);
  }
  let failed = false;
  stream.on("error", () => {
    failed = true; // the target's error reaches `finished` through reject
  });
  return {
    finished,
    async write(chunk) {
      if (failed || stream.destroyed) return;
      let more: boolean;
      try {
        more = stream.write(chunk);
      } catch {
        failed = true; // the connection is gone: `finished` settles with its error
        return;
      }
      if (more) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off("drain", done);
          stream.off("close", done);
          resolve();
        };
        stream.once("drain", done);
        stream.once("close", done);
      });
    },
    async end() {
      if (!failed && !stream.destroyed) stream.end();
      return { rowCount: await finished };
    },
    async fail(reason) {
      if (!failed && !stream.destroyed) {
        // postgres.js sends CopyFail with the error's text: the client's reason as it gave it
        const why = Object.assign(new Error(reason), { toString: () => reason });
        try {
          stream.destroy(why);
        } catch {
          failed = true; // the connection is gone: `finished` settles with its error
        }
      }
      try {
        await finished;
        return new Error("the target loaded the data although the COPY was failed");
      } catch (err) {
        return err as Error;
      }
    },
  };
}
