/**
 * Read-through caches of what every request reads from the store and admins rarely change: the principal behind
 * a token or a session, connections and who may use them, policy rules, masking settings. Correctness rests on
 * invalidation, not on time: every change clears every cache (one generation counter), so a revoked token, a
 * disabled user, a removed membership or an edited rule takes effect on the next request.
 *   - In this process: writers call `invalidateStoreCaches()`; every audited change does (server/audit), and the
 *     few unaudited writers (single sign-on membership sync, host key pinning) call it themselves.
 *   - Across replicas (PostgreSQL store): the change travels as `NOTIFY portcullis_cache`. Until this process
 *     LISTENs (the gateway starts it; scripts and tests that do not simply read the store every time) and while
 *     it re-connects after a drop, the caches are bypassed, not trusted.
 *   - The admin command line against the embedded store writes through the store socket: every statement it runs
 *     clears the caches (see `invalidateOnSocketQueries`).
 * Entries also expire after CACHE_TTL_MS, a bound for edits made with SQL outside Portcullis.
 * Not cached: anything with a lifetime (token and grant expiry are checked by callers on each use).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { getStore } from "@/db/store";
import { getConfig } from "@/server/config";
import { processSingleton } from "@/server/singleton";

export const CACHE_CHANNEL = "portcullis_cache";
const CACHE_TTL_MS = 10_000;

interface Hub {
  generation: number;
  /** true once caching can be trusted: embedded store, or LISTEN is established on PostgreSQL */
  trusted: boolean;
  started?: Promise<void>;
  stop?: () => Promise<void>;
  origin: string;
}

const hub = processSingleton<Hub>("storeCacheHub", () => ({
  generation: 0,
  trusted: false,
  origin: randomUUID(),
}));

interface Entry<V> {
  generation: number;
  at: number;
  value: V;
}

export interface StoreCache<V> {
  /**
   * The cached value for `key`, or `load()`'s: kept unless a change happened while it loaded, or it is null
   * (misses are not remembered, so unknown keys cannot crowd out known ones).
   */
  get(key: string, load: () => Promise<V>): Promise<V>;
}

/** A cache shared by both copies of the server modules (the custom server's and Next's bundle). */
export function storeCache<V>(name: string, maxEntries = 10_000): StoreCache<V> {
  const entries = processSingleton(`storeCache.${name}`, () => new Map<string, Entry<V>>());
  return {
    async get(key, load) {
      if (!hub.trusted) {
        void trustEmbeddedStore();
        return load();
      }
      const now = Date.now();
      const hit = entries.get(key);
      if (hit && hit.generation === hub.generation && now - hit.at < CACHE_TTL_MS) return hit.value;
      const generation = hub.generation;
      const value = await load();
      if (value !== null && value !== undefined && generation === hub.generation && hub.trusted) {
        if (entries.size >= maxEntries) entries.clear();
        entries.set(key, { generation, at: now, value });
      }
      return value;
    },
  };
}

function bumpGeneration(): void {
  hub.generation++;
}

/**
 * Clears every cache in this process at once and tells other replicas. Call it after the change is stored.
 * Never rejects; the returned promise (the NOTIFY) is for tests and short-lived scripts.
 */
export function invalidateStoreCaches(): Promise<void> {
  bumpGeneration();
  return notifyReplicas().catch((err) => console.error("[portcullis] could not signal other replicas:", err));
}

async function notifyReplicas(): Promise<void> {
  const store = await getStore();
  if (store.kind !== "postgres") return;
  await store.db.execute(sql`select pg_notify(${CACHE_CHANNEL}, ${hub.origin})`);
}

/** The embedded store has one process (the command line's writes clear caches through the socket). */
async function trustEmbeddedStore(): Promise<void> {
  const store = await getStore().catch(() => undefined);
  if (store?.kind === "pglite") hub.trusted = true;
}

/** Starts trusting caches: at once on the embedded store; on PostgreSQL once LISTEN is established. */
export function startStoreCacheSignals(): Promise<void> {
  hub.started ??= (async () => {
    const store = await getStore();
    const { databaseUrl } = getConfig();
    if (store.kind !== "postgres") {
      hub.trusted = true;
      return;
    }
    // An admin command line on the embedded store's socket is "postgres" without a URL: it caches nothing.
    if (!databaseUrl) return;
    const { default: postgres } = await import("postgres");
    const client = postgres(databaseUrl, {
      max: 1,
      onnotice: () => {},
      // A dropped LISTEN connection may have missed changes: stop trusting until it is back.
      onclose: () => {
        hub.trusted = false;
      },
    });
    try {
      await client.listen(
        CACHE_CHANNEL,
        (payload) => {
          if (payload !== hub.origin) bumpGeneration();
        },
        () => {
          // (Re-)listening: whatever was cached before may be stale.
          bumpGeneration();
          hub.trusted = true;
        },
      );
    } catch (err) {
      await client.end({ timeout: 1 });
      throw err;
    }
    hub.stop = () => client.end({ timeout: 1 });
  })().catch((err: unknown) => {
    hub.started = undefined;
    throw err;
  });
  return hub.started;
}

/** Stops listening and caching (tests, shutdown). */
export async function stopStoreCacheSignals(): Promise<void> {
  const stop = hub.stop;
  hub.started = undefined;
  hub.stop = undefined;
  hub.trusted = false;
  bumpGeneration();
  await stop?.();
}

/**
 * The embedded store as handed to its socket server (the admin command line's way in): every statement run
 * through the socket clears the caches once it has run, so a token revoked from the command line is refused
 * on the next request.
 */
export function invalidateOnSocketQueries<T extends { runExclusive<R>(fn: () => Promise<R>): Promise<R> }>(
  db: T,
): T {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "runExclusive") {
        return async <R>(fn: () => Promise<R>): Promise<R> => {
          try {
            return await target.runExclusive(fn);
          } finally {
            bumpGeneration();
          }
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
