/**
 * Opens the console's store: embedded PGlite under DATA_DIR by default, PostgreSQL when DATABASE_URL is set.
 * The embedded store runs in a worker thread (STORE_THREAD=worker: ./store-thread.ts) or on the calling thread
 * (STORE_THREAD=main); either way callers see the same `pglite` surface (./embedded.ts). Runs migrations on
 * open. One store per process, shared through globalThis because the custom server and the Next.js bundle load
 * this module separately.
 */
import "server-only";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { getSettings } from "@/server/config";
import { type EmbeddedDb, openEmbeddedPglite } from "./embedded";
import * as schema from "./schema";

export type { EmbeddedDb } from "./embedded";

export type Db = PostgresJsDatabase<typeof schema>;

export interface Store {
  db: Db;
  kind: "pglite" | "postgres";
  /**
   * the embedded database, when kind is "pglite" (the admin command line reaches it through a socket): PGlite
   * itself, or its stand-in on the main thread for PGlite in the store's worker thread
   */
  pglite?: EmbeddedDb;
  close(): Promise<void>;
}

const STORE = Symbol.for("portcullis.store");
type Holder = { [STORE]?: Promise<Store> };

export function migrationsFolder(): string {
  const configured = getSettings().migrationsFolder;
  if (configured) return configured;
  // The Next.js bundle relocates this file; the working directory is the project root in every mode.
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.includes(".next") ? path.resolve("db/migrations") : path.join(here, "migrations");
}

export async function openStore(options: {
  databaseUrl?: string;
  socketPath?: string;
  dataDir: string;
  /** where the embedded store runs; the STORE_THREAD setting when not given */
  thread?: "worker" | "main";
}): Promise<Store> {
  if (options.databaseUrl || options.socketPath) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    const client = options.databaseUrl
      ? postgres(options.databaseUrl, { max: 10, onnotice: () => {} })
      : postgres({
          path: options.socketPath,
          max: 1,
          onnotice: () => {},
          username: "postgres",
          database: "postgres",
        });
    const db = drizzle(client, { schema });
    try {
      await migrate(db, { migrationsFolder: migrationsFolder() });
    } catch (err) {
      // A store that cannot be reached (or is busy) leaves no connection behind to keep the process alive.
      await client.end({ timeout: 0 }).catch(() => {});
      throw err;
    }
    // A connection the server dropped mid-query can leave end() waiting for ever (postgres.js): at most 5 s.
    return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  const thread = options.thread ?? getSettings().storeThread;
  const pglite: EmbeddedDb =
    thread === "worker"
      ? await (await import("./store-thread")).WorkerPglite.open(options.dataDir, migrationsFolder())
      : await openEmbeddedPglite(options.dataDir, migrationsFolder());
  const { drizzle } = await import("drizzle-orm/pglite");
  // drizzle's PGlite driver uses query and transaction, which the worker's stand-in provides as PGlite does.
  const db: PgliteDatabase<typeof schema> = drizzle(pglite as import("@electric-sql/pglite").PGlite, {
    schema,
  });
  // The two drivers expose the same query builder; callers use one type.
  return { db: db as unknown as Db, kind: "pglite", pglite, close: () => pglite.close() };
}

/** Makes an already opened store the process's store (the admin command line chooses how to open it). */
export function installStore(store: Store) {
  (globalThis as Holder)[STORE] = Promise.resolve(store);
}

/** The process's store, opened on first use with the process configuration. */
export function getStore(): Promise<Store> {
  const holder = globalThis as Holder;
  if (!holder[STORE]) {
    holder[STORE] = (async () => {
      const { getConfig } = await import("@/server/config");
      const config = getConfig();
      return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    })();
    holder[STORE].catch(() => {
      delete holder[STORE];
    });
  }
  return holder[STORE];
}

export async function getDb(): Promise<Db> {
  return (await getStore()).db;
}

export { schema };
