import "server-only";
import { processSingleton } from "@/server/singleton";

// What the target's own catalog says about the names a statement uses: functions (volatility, language,
// SECURITY DEFINER, schema), user-defined operators (the function behind each), relations (kind, and for views
// their definition, which the classifier reads like any statement), and which relations a schema or the
// database holds.
// Answers are cached per connection for a short time and forgotten when the gateway runs DDL there; so are
// values derived from them (the classification of an exact text, `derived`), each kept no longer than the oldest
// answer it used and forgotten with them.
// It runs only the gateway's own catalog queries, through the query function it is given (it does not know
// the driver), and decides nothing: classify-statement.ts and functions.ts do.

export interface FunctionFacts {
  schema: string;
  name: string;
  /** i immutable, s stable, v volatile */
  volatility: "i" | "s" | "v";
  language: string;
  isTrustedLanguage: boolean;
  isSecurityDefiner: boolean;
  /** A function in SQL: its body as written (absent for SQL-standard bodies and other languages). */
  body?: string;
}

export interface RelationFacts {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, v view, m materialized view, p partitioned, f foreign ... */
  kind: string;
  /** For views and materialized views: the query, as pg_get_viewdef() prints it. */
  definition?: string;
}

/** The target's catalog, as the classifier asks it. Every method may throw (target down, permission). */
export interface TargetCatalog {
  /** Every function of that bare name, in any schema, by lower-case bare name. */
  functions(names: string[]): Promise<Map<string, FunctionFacts[]>>;
  /** The functions behind every operator of that name outside pg_catalog (user-defined), by operator name. */
  operators(names: string[]): Promise<Map<string, FunctionFacts[]>>;
  /** Every relation of that bare name, in any schema, by lower-case bare name. */
  relations(names: string[]): Promise<Map<string, RelationFacts[]>>;
  /** Relations of a schema (or, with null, of every schema but the system ones), as schema.name. */
  relationsIn(schema: string | null): Promise<string[]>;
}

/**
 * Values derived from a catalog's answers, by key (the classifier's: the exact text). An entry is kept only while
 * every answer it was derived from would still be given from the cache: not past the TTL of the oldest of them,
 * not past forget() (the gateway ran DDL), not across a forget() that happened while it was being derived.
 */
export interface DerivedValues<T> {
  /** The value derived for `key`, if it is still as fresh as every answer it used. */
  remembered(key: string): T | undefined;
  /**
   * Derives the value for `key` from the catalog `compute` is given, and remembers it when `keep` says so (a
   * refusal because the catalog did not answer is not a value to remember).
   */
  derive(
    key: string,
    compute: (catalog: TargetCatalog) => Promise<T>,
    keep: (value: T) => boolean,
  ): Promise<T>;
}

/** A catalog that remembers its answers, and what was derived from them. */
export interface CachedTargetCatalog<T = unknown> extends TargetCatalog {
  forget(): void;
  derived: DerivedValues<T>;
}

/** Derived values kept per catalog, and the longest key kept (longer texts are derived every time). */
export const DERIVED_ENTRIES = 512;
export const DERIVED_MAX_KEY = 4096;

/** Runs one of the gateway's own catalog queries on the target. */
export type CatalogQuery = (text: string, parameters: unknown[]) => Promise<Record<string, unknown>[]>;

export const CATALOG_TTL_MS = 30_000;

const FUNCTIONS_SQL = `
select p.proname as name, n.nspname as schema, p.provolatile as volatility, l.lanname as language,
  (l.lanpltrusted or l.lanname in ('sql', 'internal', 'c')) as trusted, p.prosecdef as definer,
  case when l.lanname = 'sql' and n.nspname not in ('pg_catalog', 'information_schema') then p.prosrc end as body
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
where lower(p.proname) = any($1::text[])`;

const OPERATORS_SQL = `
select o.oprname as operator, p.proname as name, pn.nspname as schema, p.provolatile as volatility,
  l.lanname as language, (l.lanpltrusted or l.lanname in ('sql', 'internal', 'c')) as trusted, p.prosecdef as definer
from pg_catalog.pg_operator o
join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
join pg_catalog.pg_proc p on p.oid = o.oprcode
join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
join pg_catalog.pg_language l on l.oid = p.prolang
where o.oprname = any($1::text[]) and n.nspname <> 'pg_catalog'`;

// Relations of a name; for views and materialized views, their definition as the server prints it.
const RELATIONS_SQL = `
select n.nspname as schema, c.relname as name, c.relkind as kind,
  case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid) end as definition
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where lower(c.relname) = any($1::text[]) and c.relkind in ('r', 'v', 'm', 'p', 'f')`;

const RELATIONS_IN_SQL = `
select n.nspname || '.' || c.relname as name
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'v', 'm', 'p', 'f')
  and ($1::text is null and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
    or n.nspname = $1::text)`;

interface Entry<T> {
  at: number;
  value: T;
}

/**
 * A catalog over `query` whose answers are kept for `ttlMs`, per name. `now` is the clock (tests pass their own).
 * Concurrent asks for the same names share one query.
 */
export function createTargetCatalog<T = unknown>(
  query: CatalogQuery,
  options: { ttlMs?: number; now?: () => number } = {},
): CachedTargetCatalog<T> {
  const ttl = options.ttlMs ?? CATALOG_TTL_MS;
  const now = options.now ?? Date.now;
  const functionCache = new Map<string, Entry<FunctionFacts[]>>();
  const operatorCache = new Map<string, Entry<FunctionFacts[]>>();
  const relationCache = new Map<string, Entry<RelationFacts[]>>();
  const schemaCache = new Map<string, Entry<string[]>>();

  // Loads under way, by cache and name, with when they started: concurrent asks for the same names share one query.
  const inFlight = new Map<Map<string, unknown>, Map<string, { at: number; answer: Promise<unknown[]> }>>();
  // Bumped by forget(): an answer that was on its way when the catalog was told to forget is not kept.
  let generation = 0;

  /** `noteAt` hears when each answer given was asked of the target (derived values last no longer). */
  async function cached<V>(
    cache: Map<string, Entry<V[]>>,
    names: string[],
    load: (missing: string[]) => Promise<Map<string, V[]>>,
    noteAt?: (at: number) => void,
  ): Promise<Map<string, V[]>> {
    const answer = new Map<string, V[]>();
    const waiting: [string, Promise<unknown[]>][] = [];
    const missing: string[] = [];
    const at = now();
    const loading = inFlight.get(cache) ?? new Map<string, { at: number; answer: Promise<unknown[]> }>();
    inFlight.set(cache, loading);
    for (const name of new Set(names)) {
      const hit = cache.get(name);
      const pending = loading.get(name);
      if (hit && at - hit.at < ttl) {
        answer.set(name, hit.value);
        noteAt?.(hit.at);
      } else if (pending) {
        waiting.push([name, pending.answer]);
        noteAt?.(pending.at);
      } else missing.push(name);
    }
    if (missing.length > 0) {
      noteAt?.(at);
      const started = generation;
      const loaded = load(missing);
      for (const name of missing) {
        const one = loaded.then((found) => found.get(name) ?? []);
        one.catch(() => {}); // the asker below reports it
        loading.set(name, { at, answer: one });
      }
      try {
        const found = await loaded;
        if (cache.size > 20_000) cache.clear();
        for (const name of missing) {
          const value = found.get(name) ?? [];
          if (generation === started) cache.set(name, { at, value });
          answer.set(name, value);
        }
      } finally {
        for (const name of missing) loading.delete(name);
      }
    }
    for (const [name, pending] of waiting) answer.set(name, (await pending) as V[]);
    return answer;
  }

  /** The catalog's methods; `noteAt` hears the age of every answer they give. */
  const answering = (noteAt?: (at: number) => void): TargetCatalog => ({
    functions: (names) =>
      cached(
        functionCache,
        names,
        async (missing) => {
          const rows = await query(FUNCTIONS_SQL, [missing]);
          return groupBy(rows.map(functionFacts));
        },
        noteAt,
      ),
    operators: (names) =>
      cached(
        operatorCache,
        names,
        async (missing) => {
          const byOperator = new Map<string, FunctionFacts[]>();
          for (const row of await query(OPERATORS_SQL, [missing])) {
            const key = String(row.operator);
            byOperator.set(key, [...(byOperator.get(key) ?? []), functionFacts(row)]);
          }
          return byOperator;
        },
        noteAt,
      ),
    relations: (names) =>
      cached(
        relationCache,
        names,
        async (missing) => {
          const rows = await query(RELATIONS_SQL, [missing]);
          return groupBy(
            rows.map(
              (row): RelationFacts => ({
                schema: String(row.schema),
                name: String(row.name),
                kind: String(row.kind),
                ...(typeof row.definition === "string" && { definition: row.definition }),
              }),
            ),
          );
        },
        noteAt,
      ),
    relationsIn: async (schema) => {
      const key = schema ?? "";
      const hit = schemaCache.get(key);
      if (hit && now() - hit.at < ttl) {
        noteAt?.(hit.at);
        return hit.value;
      }
      const at = now();
      const started = generation;
      noteAt?.(at);
      const rows = await query(RELATIONS_IN_SQL, [schema]);
      const value = rows.map((row) => String(row.name));
      if (generation === started) schemaCache.set(key, { at, value });
      return value;
    },
  });

  // Derived values by key, least recently used first; each with the oldest answer it used and its generation.
  const derivedByKey = new Map<string, { value: T; oldest: number; generation: number }>();
  const derived: DerivedValues<T> = {
    remembered(key) {
      const entry = derivedByKey.get(key);
      if (!entry) return undefined;
      if (entry.generation !== generation || now() - entry.oldest >= ttl) {
        derivedByKey.delete(key);
        return undefined;
      }
      derivedByKey.delete(key); // most recently used last
      derivedByKey.set(key, entry);
      return entry.value;
    },
    async derive(key, compute, keep) {
      const started = generation;
      // No answer used: nothing to outlive but forget() (and the catalog itself, replaced when the connection is).
      let oldest = Number.POSITIVE_INFINITY;
      const value = await compute(
        answering((at) => {
          if (at < oldest) oldest = at;
        }),
      );
      if (key.length <= DERIVED_MAX_KEY && generation === started && keep(value)) {
        if (derivedByKey.size >= DERIVED_ENTRIES)
          derivedByKey.delete(derivedByKey.keys().next().value as string);
        derivedByKey.set(key, { value, oldest, generation: started });
      }
      return value;
    },
  };

  return {
    ...answering(),
    derived,
    forget: () => {
      generation++;
      inFlight.clear();
      functionCache.clear();
      operatorCache.clear();
      relationCache.clear();
      schemaCache.clear();
      derivedByKey.clear();
    },
  };
}

function functionFacts(row: Record<string, unknown>): FunctionFacts {
  return {
    schema: String(row.schema),
    name: String(row.name),
    volatility: row.volatility === "i" || row.volatility === "s" ? row.volatility : "v",
    language: String(row.language),
    isTrustedLanguage: row.trusted === true,
    isSecurityDefiner: row.definer === true,
    ...(typeof row.body === "string" && row.body.trim() !== "" && { body: row.body }),
  };
}

/** Keys are lower-case: catalog names are compared with the parser's (which folds unquoted names). */
function groupBy<T extends { name: string }>(facts: T[]): Map<string, T[]> {
  const byName = new Map<string, T[]>();
  for (const fact of facts) {
    const key = fact.name.toLowerCase();
    const list = byName.get(key);
    if (list) list.push(fact);
    else byName.set(key, [fact]);
  }
  return byName;
}

const catalogs = processSingleton(
  "targetCatalogs",
  () => new Map<string, { version: string; catalog: CachedTargetCatalog }>(),
);

/** The cached catalog of one connection; a new one when the connection changed (`version`). */
export function catalogFor(connectionId: string, version: string, query: CatalogQuery): CachedTargetCatalog {
  const existing = catalogs.get(connectionId);
  if (existing && existing.version === version) return existing.catalog;
  const catalog = createTargetCatalog(query);
  catalogs.set(connectionId, { version, catalog });
  return catalog;
}

/** Forgets what the catalog of a connection said (the gateway ran DDL there). */
export function forgetCatalog(connectionId: string): void {
  catalogs.get(connectionId)?.catalog.forget();
}
