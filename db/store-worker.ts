/**
 * The embedded store's worker thread: PGlite is opened here (migrations included) and runs here, so its
 * WebAssembly engine and its file system never run on the console's main thread. The main thread's stand-in
 * (./store-thread.ts) sends one message per call (a query, an exec, a transaction's begin and end, a hold of the
 * query lock for the admin socket's turns, a protocol message of the admin socket) and this thread answers each
 * once it is done: a write is answered only after PGlite committed it, so what the main thread acknowledges is
 * what a restart finds. Calls run in the order they arrive and queue on PGlite's own locks, as they would on the
 * main thread.
 * Not responsible for what is asked (the main thread's callers) nor for serving the admin socket (the main thread
 * does, through ./store-thread.ts).
 */
import "server-only";
import { writeFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import type { PGlite, QueryOptions, Results, Transaction } from "@electric-sql/pglite";
import { openEmbeddedPglite } from "./embedded";
import { boundQueryOn } from "./simple-query";
import {
  OPENED,
  type StoreReply,
  type StoreRequest,
  type StoreWorkerData,
  type WireQueryOptions,
  wireError,
} from "./store-wire";

const leaveAsText = (value: string) => value;

function queryOptions(wire: WireQueryOptions): QueryOptions {
  return {
    ...(wire.rowMode && { rowMode: wire.rowMode }),
    ...(wire.paramTypes && { paramTypes: wire.paramTypes }),
    ...(wire.textTypes && {
      parsers: Object.fromEntries(wire.textTypes.map((oid) => [oid, leaveAsText])),
    }),
  };
}

/** Results as plain data: the rows, fields and counts (no blob). */
function plain(results: Results): Results {
  const { rows, fields, affectedRows, command, rowCount } = results;
  return { rows, fields, affectedRows, command, rowCount };
}

interface OpenTransaction {
  tx: Transaction;
  /** the `end` request's id, once it came */
  endId?: number;
  settle(commit: boolean): void;
}

const ROLLED_BACK = Symbol("rolled back on request");

function serve(pglite: PGlite, port: NonNullable<typeof parentPort>) {
  const transactions = new Map<number, OpenTransaction>();
  const locks = new Map<number, () => void>();
  let handles = 0;
  const answer = (id: number, value: unknown, inTransaction?: boolean) =>
    port.postMessage({
      id,
      value,
      ...(inTransaction !== undefined && { inTransaction }),
    } satisfies StoreReply);
  const refuse = (id: number, err: unknown) =>
    port.postMessage({ id, error: wireError(err) } satisfies StoreReply);
  const on = (tx: number | undefined) => {
    if (tx === undefined) return pglite;
    const open = transactions.get(tx)?.tx;
    if (!open) throw new Error("the store's transaction has already ended");
    return open;
  };
  const run = (id: number, work: () => Promise<unknown>) => {
    work().then(
      (value) => answer(id, value),
      (err) => refuse(id, err),
    );
  };

  port.on("message", (request: StoreRequest) => {
    switch (request.op) {
      case "query":
        return run(request.id, async () =>
          plain(await on(request.tx).query(request.sql, request.params, queryOptions(request.options))),
        );
      case "exec":
        return run(request.id, async () =>
          (await on(request.tx).exec(request.sql, queryOptions(request.options))).map(plain),
        );
      case "bound":
        return run(request.id, () => boundQueryOn(pglite, request.calls));
      case "begin": {
        const handle = ++handles;
        const opened = (tx: Transaction) =>
          new Promise<void>((resolve, reject) => {
            transactions.set(handle, {
              tx,
              settle: (commit) => (commit ? resolve() : reject(ROLLED_BACK)),
            });
            answer(request.id, handle);
          });
        pglite
          .transaction(opened)
          .then(
            () => {
              const endId = transactions.get(handle)?.endId;
              if (endId !== undefined) answer(endId, null);
            },
            (err) => {
              const open = transactions.get(handle);
              if (!open) return refuse(request.id, err); // BEGIN itself failed
              if (open.endId === undefined) return; // cannot happen: only `end` settles it
              if (err === ROLLED_BACK) answer(open.endId, null);
              else refuse(open.endId, err); // the COMMIT failed
            },
          )
          .finally(() => transactions.delete(handle));
        return;
      }
      case "end": {
        const open = transactions.get(request.tx);
        if (!open || open.endId !== undefined)
          return refuse(request.id, new Error("the store's transaction has already ended"));
        open.endId = request.id;
        return open.settle(request.commit);
      }
      case "lock": {
        const handle = ++handles;
        void pglite
          .runExclusive(
            () =>
              new Promise<void>((release) => {
                locks.set(handle, release);
                answer(request.id, handle);
              }),
          )
          .catch((err) => refuse(request.id, err));
        return;
      }
      case "unlock": {
        locks.get(request.lock)?.();
        locks.delete(request.lock);
        return answer(request.id, null);
      }
      case "protocol":
        pglite
          .execProtocolRawStream(request.message, {
            // A copy: PGlite's chunk may be a view of its whole memory, which a clone would copy entire.
            onRawData: (data) => {
              const chunk = data.slice();
              port.postMessage({ id: request.id, data: chunk } satisfies StoreReply, [chunk.buffer]);
            },
          })
          .then(
            () => answer(request.id, null, pglite.isInTransaction()),
            (err) => refuse(request.id, err),
          );
        return;
      case "close":
        pglite.close().then(
          () => {
            answer(request.id, null);
            port.close(); // nothing else keeps the thread: it ends
          },
          (err) => refuse(request.id, err),
        );
        return;
    }
  });
}

/** The store thread's name as the operating system shows it (at most 15 bytes). */
const STORE_THREAD_NAME = "pglite-store";

const start = workerData as Partial<StoreWorkerData> | undefined;
if (parentPort && start?.role === "portcullis-store") {
  const port = parentPort;
  const { dataDir, migrationsFolder } = start as StoreWorkerData;
  // The thread names itself (Linux: its `comm`, what top, ps and bench:terminal's "by thread" line show), so its
  // CPU is told apart from the masking pool's and the terminal screen's workers. Elsewhere it stays unnamed.
  try {
    writeFileSync("/proc/thread-self/comm", STORE_THREAD_NAME);
  } catch {
    // no /proc (not Linux): nothing to name
  }
  openEmbeddedPglite(dataDir, migrationsFolder).then(
    (pglite) => {
      serve(pglite, port);
      port.postMessage({ id: OPENED, value: "open" } satisfies StoreReply);
    },
    (err) => port.postMessage({ id: OPENED, error: wireError(err) } satisfies StoreReply),
  );
}
