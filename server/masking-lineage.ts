/**
 * Lineage of a statement on a connection: explains it on the target (server/targets/explain.ts), reads the plan
 * (server/masking/lineage.ts) against the connection's column rules, and caches the answer per connection and
 * statement text for a minute, forgotten at once when DDL runs through the gateway. The catalog facts a plan needs
 * (a relation's columns, a materialized view's derivation, which functions are the target's own, an index's
 * columns) are cached per connection and name the same way, so a statement seen for the first time costs one
 * EXPLAIN, not an EXPLAIN and a catalog query (decision 0020); they are only read and written by look-ups that see
 * the target's committed state (before the run, on the pool's read-only session), never by a client's session
 * whose open transaction may hold DDL nobody else sees. Fails closed: when the statement cannot be explained,
 * every column it returns is masked and the reason says so.
 * Not responsible for masking cells or deciding anything: the pipeline does both with what this returns.
 */
import "server-only";
import {
  type ColumnLineage,
  derivePlanColumns,
  type IndexInfo,
  type LineageCatalog,
  lineageFromPlan,
  type MaskingConfig,
  type PlanNode,
  planReferences,
  type RelationInfo,
  type StatementLineage,
  untracedLineage,
} from "@/server/masking";
import { processSingleton } from "@/server/singleton";
import { catalogFacts, explainPlan, type TargetQuery } from "@/server/targets/explain";
import { readOnlyQuery } from "@/server/targets/postgres";

/** Statements whose result columns lineage reads from the plan (EXPLAIN accepts them and never runs them). */
const EXPLAINABLE = new Set([
  "SelectStmt",
  "InsertStmt",
  "UpdateStmt",
  "DeleteStmt",
  "MergeStmt",
  "ExecuteStmt",
]);
/** Statements whose rows hold no table data (settings, plans). */
const NO_TABLE_DATA = new Set(["VariableShowStmt", "ExplainStmt", "TransactionStmt", "ClosePortalStmt"]);
/**
 * Statements after which names still mean what they meant before the input ran (a cached answer holds). Only
 * those that run nothing of the target's own: a SELECT can call a function (or read a view or a table whose row
 * security policy calls one) that runs set_config('search_path', ...) or creates a temporary table, and so can
 * a FETCH (its cursor's query), a DECLARE (its planning folds immutable functions) and EXPLAIN ANALYZE.
 */
const KEEPS_NAMES = new Set(["TransactionStmt", "VariableShowStmt", "ClosePortalStmt"]);
/** Statements whose text does not say which query runs (EXECUTE: what the session prepared under that name). */
const TEXT_NOT_THE_QUERY = new Set(["ExecuteStmt"]);

/** Whether a statement's lineage may be kept and reused by its text (not for EXECUTE). */
export function cacheableByText(kind: string): boolean {
  return !TEXT_NOT_THE_QUERY.has(kind);
}

/** White space or a comment, as the lexer skips them between tokens. */
const GAP = String.raw`(?:\s|--[^\n]*(?:\n|$)|/\*[\s\S]*?\*/)`;
const OPTIONS = String.raw`\((?:[^()'"]|'[^']*'|"[^"]*")*\)`;
/** The query inside a statement that wraps one: `EXPLAIN ...`, `DECLARE c CURSOR FOR ...`, `COPY (...) TO`. */
const WRAPPERS: Record<string, RegExp> = {
  ExplainStmt: new RegExp(
    `^${GAP}*explain(?:${GAP}*${OPTIONS}${GAP}*|${GAP}+)(?:(?:analy[sz]e|verbose)${GAP}+)*`,
    "i",
  ),
  DeclareCursorStmt: new RegExp(
    `^${GAP}*declare${GAP}+(?:"(?:[^"]|"")*"|[\\w$]+)${GAP}+` +
      `(?:(?:binary|asensitive|insensitive|no${GAP}+scroll|scroll)${GAP}+)*cursor${GAP}+` +
      `(?:(?:with|without)${GAP}+hold${GAP}+)?for\\b${GAP}*`,
    "i",
  ),
};

/** `COPY (query) TO ...`: the query between the first parenthesis and its match (quotes respected). */
function copiedQuery(text: string): string | undefined {
  const m = new RegExp(`^${GAP}*copy${GAP}*\\(`, "i").exec(text);
  if (!m) return undefined;
  let depth = 1;
  for (let i = m[0].length; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return undefined;
      i = end;
    } else if (ch === "(") depth++;
    else if (ch === ")" && --depth === 0) return text.slice(m[0].length, i);
  }
  return undefined;
}

/**
 * How lineage treats a statement: explain `text` (its result columns traced when `columns`; otherwise only what
 * it filters on is read), nothing to trace, or untraced (its result columns are masked).
 */
export type LineagePlan =
  | { kind: "explain"; text: string; columns: boolean }
  | { kind: "none" }
  | { kind: "untraced"; reason: string };

export function lineagePlan(statementKind: string, text: string): LineagePlan {
  if (EXPLAINABLE.has(statementKind)) return { kind: "explain", text, columns: true };
  const wrapper = WRAPPERS[statementKind];
  const inner = wrapper ? (wrapper.exec(text) ? text.replace(wrapper, "") : undefined) : undefined;
  const copied = statementKind === "CopyStmt" ? copiedQuery(text) : undefined;
  if (inner ?? copied) return { kind: "explain", text: (inner ?? copied)!, columns: false };
  if (wrapper)
    return { kind: "untraced", reason: "the gateway could not find the query this statement wraps" };
  if (NO_TABLE_DATA.has(statementKind)) return { kind: "none" };
  return { kind: "untraced", reason: `the columns of a ${statementKind} cannot be traced` };
}

/** Whether names mean what they meant before `kinds` ran (so a cached or pre-run answer holds). */
export function keepsNames(kinds: readonly string[]): boolean {
  return kinds.every((k) => KEEPS_NAMES.has(k));
}

const TTL_MS = 60_000;
/** Statements remembered per connection; the oldest go first. */
const MAX_ENTRIES = 2_000;
/** Materialized views defined over materialized views are followed this deep. */
const MAX_MATVIEW_DEPTH = 4;

interface Entry {
  at: number;
  version: string;
  rules: MaskingConfig["columnRules"];
  lineage: StatementLineage;
}

const cache = processSingleton("statementLineage", () => new Map<string, Map<string, Entry>>());

/**
 * What the catalog said about names on one connection (null: no such relation), for one connection version,
 * dropped whole after TTL_MS or when DDL runs through the gateway. A materialized view's entry holds its
 * derivation as read when it was first met.
 */
interface Facts {
  at: number;
  version: string;
  relations: Map<string, RelationInfo | null>;
  ownFunctions: Map<string, boolean>;
  indexes: Map<string, IndexInfo[]>;
}

const factsCache = processSingleton("lineageCatalogFacts", () => new Map<string, Facts>());

/** The names a connection's facts may hold before they are dropped and read anew. */
const MAX_FACT_NAMES = 20_000;

/** Forget what is known about a connection's statements (DDL ran: a view or a table may have changed). */
export function forgetLineage(connectionId: string) {
  cache.delete(connectionId);
  factsCache.delete(connectionId);
}

/** Counts cold look-ups (for tests and the benchmark: a warm statement never explains again). */
export const lineageStats = processSingleton("statementLineageStats", () => ({
  explained: 0,
  catalogReads: 0,
}));

/** The connection's cached facts, when they may be used (fresh, same version), else a new empty set. */
function factsFor(connectionId: string, version: string): Facts {
  const now = Date.now();
  const known = factsCache.get(connectionId);
  const size = known ? known.relations.size + known.ownFunctions.size + known.indexes.size : 0;
  if (known && known.version === version && now - known.at < TTL_MS && size < MAX_FACT_NAMES) return known;
  const fresh: Facts = {
    at: now,
    version,
    relations: new Map(),
    ownFunctions: new Map(),
    indexes: new Map(),
  };
  factsCache.set(connectionId, fresh);
  return fresh;
}

/** A cached derivation handed out as a copy: the resolver may add to what it is given. */
function copied(info: RelationInfo): RelationInfo {
  if (!info.derived) return info;
  return {
    ...info,
    derived: info.derived.map((d) => ({
      sources: new Set(d.sources),
      ...(d.unknown && { unknown: d.unknown }),
    })),
  };
}

/**
 * The catalog a plan needs. With `facts` (a look-up that sees the committed state), names already known come from
 * it and only the others are asked for, and what the target answers is kept there.
 */
async function relationInfo(
  query: TargetQuery,
  plan: PlanNode,
  depth: number,
  facts?: Facts,
): Promise<LineageCatalog> {
  const refs = planReferences(plan);
  const relations = refs.relations.filter((n) => !facts?.relations.has(n));
  const functions = refs.functions.filter((n) => !facts?.ownFunctions.has(n));
  const indexNames = refs.indexes.filter((n) => !facts?.indexes.has(n));
  const catalog = {
    relations: new Map<string, RelationInfo>(),
    ownFunctions: new Set<string>(),
    indexes: new Map<string, IndexInfo[]>(),
  };
  if (relations.length + functions.length + indexNames.length > 0) {
    lineageStats.catalogReads++;
    const read = await catalogFacts(query, relations, functions, indexNames);
    for (const { name, ...index } of read.indexes)
      catalog.indexes.set(name, [...(catalog.indexes.get(name) ?? []), index]);
    for (const f of read.ownFunctions) catalog.ownFunctions.add(f);
    for (const r of read.relations) {
      const info: RelationInfo = { kind: r.kind, columns: r.columns };
      if (r.kind === "m" && r.definition && depth < MAX_MATVIEW_DEPTH) {
        // A materialized view stores rows: its columns derive from what its definition selects.
        try {
          const definition = r.definition.trim().replace(/;$/, "");
          const inner = (await explainPlan(query, definition)) as PlanNode;
          info.derived = derivePlanColumns(inner, await relationInfo(query, inner, depth + 1, facts));
        } catch {
          // left without `derived`: its columns are then untraced, so masked
        }
      }
      catalog.relations.set(r.name, info);
    }
    if (facts) {
      // Names the target did not know are remembered as unknown too (the next plan naming them asks nothing).
      // A copy, taken before the resolver is handed this statement's catalog.
      for (const n of relations) {
        const info = catalog.relations.get(n);
        facts.relations.set(n, info ? copied(info) : null);
      }
      for (const n of functions) facts.ownFunctions.set(n, catalog.ownFunctions.has(n));
      for (const n of indexNames) facts.indexes.set(n, catalog.indexes.get(n) ?? []);
    }
  }
  if (facts) {
    for (const n of refs.relations) {
      const info = facts.relations.get(n);
      if (info && !catalog.relations.has(n)) catalog.relations.set(n, copied(info));
    }
    for (const n of refs.functions) if (facts.ownFunctions.get(n)) catalog.ownFunctions.add(n);
    for (const n of refs.indexes) {
      const list = facts.indexes.get(n);
      if (list?.length && !catalog.indexes.has(n)) catalog.indexes.set(n, list);
    }
  }
  return catalog;
}

export type LineageAnswer = StatementLineage | { untraced: string };

/** The cached answer for this statement text, when there is one that still holds. */
function cachedLineage(options: {
  connectionId: string;
  version: string;
  statement: string;
  masking: MaskingConfig;
  cacheable: boolean;
}): StatementLineage | undefined {
  const hit = options.cacheable ? cache.get(options.connectionId)?.get(options.statement) : undefined;
  if (
    hit &&
    hit.version === options.version &&
    hit.rules === options.masking.columnRules &&
    Date.now() - hit.at < TTL_MS
  )
    return hit.lineage;
  return undefined;
}

/**
 * The lineage of one statement. `query` runs on the target (the run's own session, or a read-only one before
 * the run); `cacheable` is false when earlier statements of the input may have changed what names mean.
 */
export async function statementLineage(options: {
  connectionId: string;
  connectionName: string;
  version: string;
  statement: string;
  masking: MaskingConfig;
  query: TargetQuery;
  cacheable: boolean;
  /** how many parameters ($1...) the statement takes; > 0 needs `query` bound to one session */
  parameterCount?: number;
  /**
   * `query` sees only the target's committed state (the pool's read-only session, before the run): the catalog
   * facts cached per connection may then be used and added to. A client's own session may not.
   */
  committedState?: boolean;
}): Promise<LineageAnswer> {
  const { connectionId, statement, masking } = options;
  const byText = cache.get(connectionId);
  const known = cachedLineage(options);
  if (known) return known;
  lineageStats.explained++;
  let lineage: StatementLineage;
  try {
    const plan = (await explainPlan(options.query, statement, options.parameterCount)) as PlanNode;
    const facts =
      options.cacheable && options.committedState ? factsFor(connectionId, options.version) : undefined;
    const catalog = await relationInfo(options.query, plan, 0, facts);
    lineage = lineageFromPlan(
      plan,
      catalog,
      masking.columnRules,
      options.connectionName,
      options.parameterCount,
    );
  } catch {
    // The target's message is not repeated: it could quote a value.
    return { untraced: "the gateway could not explain this statement to trace its columns" };
  }
  if (options.cacheable) {
    const map = byText ?? new Map<string, Entry>();
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
    map.set(statement, { at: Date.now(), version: options.version, rules: masking.columnRules, lineage });
    cache.set(connectionId, map);
  }
  return lineage;
}

/** What lineage found before the run, by statement index, and the masked predicates among it. */
export interface KnownLineage {
  answers: Map<number, LineageAnswer>;
  predicates: Map<number, { column: string; type: string }[]>;
}

/**
 * Lineage of the statements that can be explained before anything runs, on a read-only session: the first ones,
 * up to and including the first after which names may mean something else (what follows may use what it
 * creates; those are traced in the run's own session, just before they run). Warm ones come from the cache.
 */
export async function lineageBeforeRun(
  connection: { id: string; name: string; updatedAt: string },
  statements: readonly { index: number; kind: string; text: string }[],
  masking: MaskingConfig,
  /**
   * The statement takes parameters ($1... of a native client's extended protocol): only an answer already cached
   * is used; an EXPLAIN of it without its parameters could only fail (it is explained as a generic plan in the
   * run's own session instead).
   */
  parameterized = false,
): Promise<KnownLineage> {
  const known: KnownLineage = { answers: new Map(), predicates: new Map() };
  let query: TargetQuery | undefined;
  for (const s of statements) {
    const plan = lineagePlan(s.kind, s.text);
    if (plan.kind === "explain" && s.kind !== "ExecuteStmt") {
      const where = { connectionId: connection.id, version: connection.updatedAt, masking, cacheable: true };
      const cached = parameterized ? cachedLineage({ ...where, statement: plan.text }) : undefined;
      if (parameterized && !cached) break;
      const answer =
        cached ??
        (await statementLineage({
          connectionId: connection.id,
          connectionName: connection.name,
          version: connection.updatedAt,
          statement: plan.text,
          masking,
          query: async (text, params) => {
            query ??= await readOnlyQuery(connection.id, connection.updatedAt);
            return query(text, params);
          },
          cacheable: true,
          committedState: true,
        }));
      known.answers.set(s.index, answer);
      if (!("untraced" in answer) && answer.predicates.length > 0)
        known.predicates.set(s.index, answer.predicates);
    }
    if (!keepsNames([s.kind])) break;
  }
  return known;
}

/** Per result column, its lineage; every column untraced when lineage failed or does not cover them all. */
export function columnLineage(answer: LineageAnswer | undefined, count: number): ColumnLineage[] | undefined {
  if (!answer) return undefined;
  if ("untraced" in answer) return untracedLineage(count, answer.untraced).columns;
  // The plan may print more outputs than the result has (sort keys at the end), never fewer.
  if (answer.columns.length < count)
    return untracedLineage(count, "the plan does not account for every column").columns;
  return answer.columns.slice(0, count);
}
