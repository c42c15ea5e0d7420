/**
 * Opens the embedded PGlite store under DATA_DIR/store, on whichever thread calls it (the console's main thread,
 * or the store's worker thread: ./store-worker.ts), and runs the migrations. Also the surface the rest of the
 * console uses of an embedded store (`EmbeddedDb`), which PGlite itself and its stand-in for a PGlite in a worker
 * (./store-thread.ts) both provide.
 * Not responsible for choosing the thread (./store.ts) nor for reading configuration (the caller passes it in:
 * this module also runs in the worker, which reads no settings).
 */
import "server-only";
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import type {
  ExecProtocolOptionsStream,
  PGlite,
  QueryOptions,
  Results,
  Transaction,
} from "@electric-sql/pglite";
import * as schema from "./schema";
import type { BoundCall, SimpleResult } from "./simple-query";

/** What the console uses of the embedded database (db/prepared.ts, drizzle, the admin socket, close). */
export interface EmbeddedDb {
  query<T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(query: string, options?: QueryOptions): Promise<Results[]>;
  transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  execProtocolRawStream(message: Uint8Array, options: ExecProtocolOptionsStream): Promise<void>;
  isInTransaction(): boolean;
  close(): Promise<void>;
  /** ./simple-query.ts's boundQueryOn, where the PGlite is elsewhere (the worker's stand-in); absent on PGlite */
  boundQuery?(calls: readonly BoundCall[]): Promise<SimpleResult[]>;
}

/** Opens (creating if need be) the store in `dataDir`/store with its migrations applied. */
export async function openEmbeddedPglite(dataDir: string, migrationsFolder: string): Promise<PGlite> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  // pg_trgm backs the sessions list's text search (a trigram index over statements and commands).
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const storeDir = path.join(dataDir, "store");
  const pglite = await PGlite.create(storeDir, { extensions: { pg_trgm } });
  // PGlite unpacks a new store with files open to everyone (0666): they are made the owner's alone, as are
  // those of a store an earlier version left open. Files it creates later follow the process umask (077).
  keepPrivate(storeDir);
  try {
    await migrate(drizzle(pglite, { schema }), { migrationsFolder });
  } catch (err) {
    await pglite.close().catch(() => {});
    throw err;
  }
  return pglite;
}

/** Removes group and other permissions from a folder and everything in it. */
function keepPrivate(dir: string) {
  const entries = [dir];
  for (let entry = entries.pop(); entry !== undefined; entry = entries.pop()) {
    const stat = lstatSync(entry);
    if (stat.isSymbolicLink()) continue;
    if (stat.mode & 0o077) chmodSync(entry, stat.mode & 0o700);
    if (stat.isDirectory()) for (const name of readdirSync(entry)) entries.push(path.join(entry, name));
  }
}
