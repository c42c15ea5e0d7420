/**
 * The embedded store in a worker thread (STORE_THREAD=worker), seen from the console's main thread: a stand-in
 * for PGlite that sends each call to ./store-worker.ts and resolves when the worker answered, so drizzle,
 * db/prepared.ts and the admin socket (server/store-socket.ts) use it as they use PGlite itself. The main thread
 * only posts and receives messages; PGlite's engine and file system run on the worker's thread.
 * A transaction holds PGlite's transaction in the worker from `begin` to `end`; a hold of the query lock (the
 * admin socket's turns) likewise from `lock` to `unlock`. Fail closed: if the worker stops, every call waiting
 * and every later call is refused (the store is down), and a query option that cannot cross threads (a parser
 * that changes values, serializers, notices, blobs) is refused rather than dropped.
 * Not responsible for opening the store (./embedded.ts, in the worker) nor for choosing the thread (./store.ts).
 */
import "server-only";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { ExecProtocolOptionsStream, QueryOptions, Results, Transaction } from "@electric-sql/pglite";
import type { EmbeddedDb } from "./embedded";
import type { BoundCall, SimpleResult } from "./simple-query";
import {
  errorFrom,
  OPENED,
  type StoreReply,
  type StoreRequest,
  type StoreWorkerData,
  type WireQueryOptions,
} from "./store-wire";

type Pending = {
  resolve(value: unknown, inTransaction?: boolean): void;
  reject(err: Error): void;
  onData?: (data: Uint8Array) => void;
};

/** Omit<StoreRequest, "id"> distributed over the union. */
type Call = StoreRequest extends infer R ? (R extends StoreRequest ? Omit<R, "id"> : never) : never;

/** drizzle's parsers leave timestamps, dates, intervals and numeric arrays as text: that, and only that, crosses. */
function wireOptions(options: QueryOptions | undefined): WireQueryOptions {
  if (!options) return {};
  const { rowMode, parsers, paramTypes, serializers, blob, onNotice } = options;
  if (serializers || blob || onNotice)
    throw new Error("serializers, blobs and notice callbacks cannot reach the store's worker thread");
  const textTypes = parsers
    ? Object.entries(parsers).map(([oid, parse]) => {
        if (parse("2001-02-03 04:05:06+00", Number(oid)) !== "2001-02-03 04:05:06+00")
          throw new Error("only parsers that keep values as text can reach the store's worker thread");
        return Number(oid);
      })
    : undefined;
  return { ...(rowMode && { rowMode }), ...(paramTypes && { paramTypes }), ...(textTypes && { textTypes }) };
}

export class WorkerPglite implements EmbeddedDb {
  private readonly pending = new Map<number, Pending>();
  private nextId = OPENED + 1;
  private stopped: Error | undefined;
  private inTransaction = false;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on("message", (reply: StoreReply) => this.receive(reply));
    worker.on("error", (err) => this.stop(new Error(`the store's worker thread failed: ${err.message}`)));
    // A reply that cannot be read cannot be matched to its call: the store is refused from then on.
    worker.on("messageerror", (err) => {
      this.stop(new Error(`a reply of the store's worker thread could not be read: ${err.message}`));
      void worker.terminate();
    });
    worker.on("exit", (code) =>
      this.stop(new Error(`the store's worker thread stopped (exit code ${code})`)),
    );
  }

  /** Starts the worker, which opens the store in `dataDir` and migrates it; resolves once it is open. */
  static async open(dataDir: string, migrationsFolder: string): Promise<WorkerPglite> {
    // The path is built at run time: Next's bundler must not try to bundle the worker (it runs from source).
    const entry = [process.cwd(), "db", "store-worker-entry.mjs"].join(path.sep);
    const WorkerThread = Worker;
    const worker = new WorkerThread(entry, {
      execArgv: [],
      workerData: { role: "portcullis-store", dataDir, migrationsFolder } satisfies StoreWorkerData,
    });
    const store = new WorkerPglite(worker);
    try {
      await store.await(OPENED);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return store;
  }

  private receive(reply: StoreReply) {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if ("data" in reply) return pending.onData?.(reply.data);
    this.settled(reply.id);
    if ("error" in reply) pending.reject(errorFrom(reply.error));
    else pending.resolve(reply.value, reply.inTransaction);
  }

  private settled(id: number) {
    this.pending.delete(id);
    // Nothing asked of the worker: it does not keep the process alive (as an idle PGlite would not).
    if (this.pending.size === 0) this.worker.unref();
  }

  private stop(err: Error) {
    if (this.stopped) return;
    this.stopped = err;
    if (this.pending.size > 0) console.error(`[portcullis] ${err.message}`);
    for (const [id, pending] of this.pending) {
      this.settled(id);
      pending.reject(err);
    }
  }

  private await(id: number, onData?: Pending["onData"]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, {
        resolve: (value, inTransaction) => {
          if (inTransaction !== undefined) this.inTransaction = inTransaction;
          resolve(value);
        },
        reject,
        ...(onData && { onData }),
      });
    });
  }

  private call(call: Call, onData?: Pending["onData"], transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const answered = this.await(id, onData);
    try {
      this.worker.postMessage({ ...call, id }, transfer ?? []);
    } catch (err) {
      // A value that cannot be cloned (a function, a symbol): nothing was sent; this call alone fails.
      const pending = this.pending.get(id);
      this.settled(id);
      pending?.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return answered;
  }

  async query<T>(
    sql: string,
    params: unknown[] = [],
    options?: QueryOptions,
    tx?: number,
  ): Promise<Results<T>> {
    const request = { op: "query", sql, params, options: wireOptions(options), ...(tx && { tx }) } as const;
    return (await this.call(request)) as Results<T>;
  }

  async exec(sql: string, options?: QueryOptions, tx?: number): Promise<Results[]> {
    return (await this.call({
      op: "exec",
      sql,
      options: wireOptions(options),
      ...(tx && { tx }),
    })) as Results[];
  }

  /** ./simple-query.ts's boundQueryOn run in the worker: one message there and back, each call's rows. */
  async boundQuery(calls: readonly BoundCall[]): Promise<SimpleResult[]> {
    return (await this.call({ op: "bound", calls })) as SimpleResult[];
  }

  async transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
    const handle = (await this.call({ op: "begin" })) as number;
    let closed = false;
    const unsupported = () =>
      Promise.reject(new Error("not available in a transaction of the store's worker"));
    const tx = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) =>
        closed
          ? Promise.reject(new Error("the transaction has ended"))
          : this.query<R>(sql, params, options, handle),
      exec: (sql: string, options?: QueryOptions) =>
        closed ? Promise.reject(new Error("the transaction has ended")) : this.exec(sql, options, handle),
      sql: unsupported,
      listen: unsupported,
      rollback: async () => {
        throw new Error("a transaction of the store's worker rolls back when its callback throws");
      },
      get closed() {
        return closed;
      },
    } as unknown as Transaction;
    let result: T;
    try {
      result = await callback(tx);
    } catch (err) {
      closed = true;
      await this.call({ op: "end", tx: handle, commit: false });
      throw err;
    }
    closed = true;
    await this.call({ op: "end", tx: handle, commit: true });
    return result;
  }

  async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const lock = (await this.call({ op: "lock" })) as number;
    try {
      return await fn();
    } finally {
      await this.call({ op: "unlock", lock });
    }
  }

  async execProtocolRawStream(message: Uint8Array, options: ExecProtocolOptionsStream): Promise<void> {
    const copy = message.slice(); // transferred: the caller's buffer stays the caller's
    await this.call({ op: "protocol", message: copy }, options.onRawData, [copy.buffer as ArrayBuffer]);
  }

  /** Whether the session is inside a transaction, as of the last protocol message's answer. */
  isInTransaction(): boolean {
    return this.inTransaction;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call({ op: "close" });
    await this.worker.terminate();
  }
}
