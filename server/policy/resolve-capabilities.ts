import "server-only";
import { SYSTEM_VIEWS } from "./builtin-functions.generated";
import type { FunctionFacts, RelationFacts, TargetCatalog } from "./catalog";
import { type Capability, capabilityOfFacts, isSafeBuiltin, SENSITIVE_TABLES } from "./functions";
import { walkStatement } from "./handlers";
import { encoder, findTextProblem, type PgQueryWasm, parseBytes } from "./parser";
import type { Call, StatementWalk } from "./walk";

// Settles what the parse tree alone cannot: what the functions and operators a statement calls do (the
// allowlist of built-ins, then the target's catalog for the rest), and what it reads through views: a view's
// definition (from the target's catalog) is walked like the statement itself, recursively, so table rules see
// the tables behind it and its functions count as called. Adds its findings and tables to each statement's
// walk. Without a catalog (the terminal's psql -c, unit tests) anything it cannot settle is a write, and system
// views take the class generated from PostgreSQL 15. It does not query the target itself (catalog.ts).

/** Schemas PostgreSQL ships: their functions are judged by the shipped lists, not by volatility. */
const BUILTIN_SCHEMAS = new Set(["pg_catalog", "information_schema"]);
const NOT_CONSULTED = "the target's catalog was not consulted";
/** Views over views over views...: deeper than this is refused rather than followed. */
const MAX_VIEW_DEPTH = 16;

/** Whether a walk needs anything of the catalog (so a statement of constants never waits for one). */
export function needsCatalog(walk: StatementWalk): boolean {
  return (
    walk.calls.length > 0 || walk.tables.size > 0 || walk.operators.size > 0 || walk.tableReaches.size > 0
  );
}

/**
 * Adds to every walk what its calls, operators and relations do. Throws when the catalog cannot answer: the
 * caller refuses the input (fail closed).
 */
export async function resolveCapabilities(
  walks: StatementWalk[],
  catalog: TargetCatalog | undefined,
  parser: PgQueryWasm,
): Promise<void> {
  for (const walk of walks) noteSensitiveTables(walk);
  if (!catalog) {
    for (const walk of walks) resolveWithoutCatalog(walk);
    return;
  }
  await checkCatalogOnlyNames(walks, catalog);
  // Views and SQL function bodies can name more tables, calls and schemas to read: followed round by round.
  const progress = new Map<StatementWalk, Progress>(
    walks.map((walk) => [walk, { tables: new Set(), reaches: new Set(), calls: 0, bodies: new Set() }]),
  );
  for (let round = 0; ; round++) {
    if (round > MAX_VIEW_DEPTH) {
      for (const walk of walks)
        walk.note("dangerous", "reads views or functions nested too deeply to inspect");
      break;
    }
    // The calls known so far are asked while views are followed.
    const calls = lookUpCalls(walks, catalog);
    calls.catch(() => {}); // reported by the await below, not as an unhandled rejection meanwhile
    await nameReachedTables(walks, catalog, progress);
    await expandViews(walks, catalog, parser, progress);
    await calls;
    const [functions] = await lookUpCalls(walks, catalog);
    if (!expandFunctionBodies(walks, functions, parser, progress)) break;
  }
  const [functions, operators] = await lookUpCalls(walks, catalog);
  for (const walk of walks) {
    for (const call of walk.calls) resolveCall(walk, call, functions.get(call.bare) ?? []);
    for (const operator of walk.operators) {
      resolveOperator(walk, operator, operators.get(bareOf(operator)) ?? []);
    }
  }
}

/** What of a walk has been followed already: tables, schemas read whole, calls, function bodies. */
interface Progress {
  tables: Set<string>;
  reaches: Set<string | null>;
  calls: number;
  bodies: Set<string>;
}

function lookUpCalls(walks: StatementWalk[], catalog: TargetCatalog) {
  const callNames = walks.flatMap((walk) => walk.calls.map((call) => call.bare));
  const operatorNames = walks.flatMap((walk) => [...walk.operators].map(bareOf));
  return Promise.all([
    callNames.length > 0 ? catalog.functions(callNames) : new Map<string, FunctionFacts[]>(),
    operatorNames.length > 0 ? catalog.operators(operatorNames) : new Map<string, FunctionFacts[]>(),
  ]);
}

/**
 * A function in SQL has a body the classifier can read: its tables count for table rules and its calls are
 * calls. Returns whether anything new was added (so views and calls are followed once more).
 */
function expandFunctionBodies(
  walks: StatementWalk[],
  functions: Map<string, FunctionFacts[]>,
  parser: PgQueryWasm,
  progress: Map<StatementWalk, Progress>,
): boolean {
  let grew = false;
  for (const walk of walks) {
    const done = progress.get(walk) as Progress;
    const end = walk.calls.length;
    for (let i = done.calls; i < end; i++) {
      const call = walk.calls[i] as Call;
      for (const facts of functions.get(call.bare) ?? []) {
        const name = `${facts.schema}.${facts.name}`;
        if (facts.body === undefined || BUILTIN_SCHEMAS.has(facts.schema) || done.bodies.has(name)) continue;
        if (!isReachable(call.schema === undefined ? undefined : bareOf(call.schema), facts.schema)) continue;
        done.bodies.add(name);
        const inner = walkDefinitions(facts.body, parser);
        if (!inner) continue; // an unreadable body leaves the function judged by its catalog entry alone
        const via = `calls ${name}(), which`;
        for (const statement of inner) {
          for (const table of statement.tables) {
            if (walk.tables.has(table)) continue;
            walk.tables.add(table);
            walk.note("read", `reads ${table} through function ${name}()`);
          }
          mergeCalls(walk, statement, via);
        }
        grew = true;
      }
    }
    done.calls = end;
  }
  return grew;
}

function bareOf(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

function schemaOf(name: string): string | undefined {
  const parts = name.split(".");
  return parts.length > 1 ? parts[parts.length - 2] : undefined;
}

function isCatalogName(table: string): boolean {
  const schema = schemaOf(table);
  return schema === undefined || schema === "pg_catalog";
}

/** pg_authid.rolpassword and the like, read by name, by `*` or as a whole row. */
function noteSensitiveTables(walk: StatementWalk): void {
  for (const table of walk.tables) {
    if (!isCatalogName(table)) continue;
    const bare = bareOf(table);
    const sensitive = SENSITIVE_TABLES.get(bare);
    if (!sensitive) continue;
    const isRead =
      sensitive.columns === undefined ||
      walk.hasStar ||
      walk.columns.has(bare) ||
      [...walk.aliases].some((alias) => walk.columns.has(alias)) ||
      sensitive.columns.some((column) => walk.columns.has(column));
    if (isRead) walk.note("dangerous", `reads pg_catalog.${bare}, which ${sensitive.why}`);
  }
}

/**
 * A classification that holds only if a name is pg_catalog's alone (set_config(name, ...) FROM pg_settings WHERE
 * name = '...'): any relation of that name in another schema (a temporary table comes first in the search path;
 * a search_path can put any schema first) or any user-defined operator of that name could stand in for it, with a
 * `name` that differs between the WHERE and the call, or an `=` that matches every row: then it is refused.
 */
async function checkCatalogOnlyNames(walks: StatementWalk[], catalog: TargetCatalog): Promise<void> {
  const relationNames = [...new Set(walks.flatMap((walk) => [...walk.catalogOnly.relations]))];
  const operatorNames = [...new Set(walks.flatMap((walk) => [...walk.catalogOnly.operators]))];
  if (relationNames.length === 0 && operatorNames.length === 0) return;
  const [relations, operators] = await Promise.all([
    relationNames.length > 0 ? catalog.relations(relationNames) : new Map<string, RelationFacts[]>(),
    operatorNames.length > 0 ? catalog.operators(operatorNames) : new Map<string, FunctionFacts[]>(),
  ]);
  for (const walk of walks) {
    for (const name of walk.catalogOnly.relations) {
      for (const facts of relations.get(name) ?? []) {
        if (facts.schema === "pg_catalog") continue;
        walk.note(
          "dangerous",
          `set_config() takes its setting name from ${name}, and ${facts.schema}.${facts.name} can stand in for pg_catalog.${name}`,
        );
      }
    }
    for (const name of walk.catalogOnly.operators) {
      for (const facts of operators.get(name) ?? []) {
        walk.note(
          "dangerous",
          `set_config() takes its setting name from a WHERE whose ${name} can be the user-defined operator of ${facts.schema}.${facts.name}()`,
        );
      }
    }
  }
}

function resolveWithoutCatalog(walk: StatementWalk): void {
  for (const name of [...walk.catalogOnly.relations, ...walk.catalogOnly.operators]) {
    walk.note(
      "dangerous",
      `set_config() takes its setting name from ${name}, which cannot be shown to be pg_catalog's (${NOT_CONSULTED})`,
    );
  }
  for (const table of walk.tables) {
    const view = isCatalogName(table)
      ? `pg_catalog.${bareOf(table)}`
      : schemaOf(table) === "information_schema"
        ? `information_schema.${bareOf(table)}`
        : undefined;
    const verdict = view === undefined ? undefined : SYSTEM_VIEWS[view];
    if (verdict) walk.note(verdict.class, `reads ${view}, which ${verdict.reason}`);
  }
  for (const call of walk.calls) {
    if (call.isJudgedByName) continue;
    const isBuiltinSchema = call.schema === undefined || BUILTIN_SCHEMAS.has(call.schema);
    if (isBuiltinSchema && isSafeBuiltin(call.bare)) continue;
    walk.note(
      "write",
      `${prefix(call)}calls ${call.qualified}(), which is not a built-in known to be safe (${NOT_CONSULTED})`,
    );
  }
  for (const schema of walk.tableReaches) {
    walk.note(
      "write",
      `reads every table of ${schema ?? "the database"}, and ${NOT_CONSULTED} to name them for table rules`,
    );
  }
}

/** Tables of schema_to_xml() and database_to_xml(): named, then looked at like any other. */
async function nameReachedTables(
  walks: StatementWalk[],
  catalog: TargetCatalog,
  progress: Map<StatementWalk, Progress>,
): Promise<void> {
  const fresh = (walk: StatementWalk) => {
    const done = (progress.get(walk) as Progress).reaches;
    return [...walk.tableReaches].filter((schema) => !done.has(schema));
  };
  const reaches = [...new Set(walks.flatMap(fresh))];
  if (reaches.length === 0) return;
  const reached = new Map<string | null, string[]>();
  await Promise.all(reaches.map(async (schema) => reached.set(schema, await catalog.relationsIn(schema))));
  for (const walk of walks) {
    for (const schema of fresh(walk)) {
      (progress.get(walk) as Progress).reaches.add(schema);
      const names = reached.get(schema) ?? [];
      for (const name of names) walk.tables.add(name.toLowerCase());
      const where = schema === null ? "the database" : schema;
      walk.note("read", `reads every table of ${where} (${names.length} in the target's catalog)`);
    }
  }
}

/** Parsed view definitions and function bodies, by their text: each is walked once, not per statement. */
const definitionWalks = new Map<string, StatementWalk[] | null>();

function walkDefinitions(text: string, parser: PgQueryWasm): StatementWalk[] | null {
  const cached = definitionWalks.get(text);
  if (cached !== undefined) return cached;
  let walks: StatementWalk[] | null = null;
  if (!findTextProblem(text)) {
    const outcome = parseBytes(parser, encoder.encode(text));
    const raws = outcome.ok ? (outcome.tree.stmts ?? []) : [];
    if (raws.length > 0) {
      walks = raws.map((raw) => {
        const walk = walkStatement(raw, { parser, prepared: new Map(), depth: 1 });
        noteSensitiveTables(walk);
        return walk;
      });
    }
  }
  if (definitionWalks.size > 2000) definitionWalks.clear();
  definitionWalks.set(text, walks);
  return walks;
}

/**
 * Every relation a statement names resolves to every relation of that name the search path may reach; a view
 * adds what its definition does (tables, calls, findings), and the tables it names are looked at in turn.
 */
async function expandViews(
  walks: StatementWalk[],
  catalog: TargetCatalog,
  parser: PgQueryWasm,
  progress: Map<StatementWalk, Progress>,
) {
  const seen = new Map<StatementWalk, Set<string>>(
    walks.map((walk) => [walk, (progress.get(walk) as Progress).tables]),
  );
  for (let depth = 0; ; depth++) {
    const pending = new Map<StatementWalk, string[]>();
    for (const walk of walks) {
      const done = seen.get(walk) as Set<string>;
      const fresh = [...walk.tables].filter((table) => !done.has(table));
      if (fresh.length > 0) pending.set(walk, fresh);
    }
    if (pending.size === 0) return;
    if (depth >= MAX_VIEW_DEPTH) {
      for (const walk of pending.keys()) walk.note("dangerous", "reads views nested too deeply to inspect");
      return;
    }
    const names = [...new Set([...pending.values()].flat().map(bareOf))];
    const relations = await catalog.relations(names);
    for (const [walk, tables] of pending) {
      const done = seen.get(walk) as Set<string>;
      for (const table of tables) {
        done.add(table);
        for (const facts of relations.get(bareOf(table)) ?? []) {
          if (matchesSchema(table, facts)) addView(walk, facts, parser);
        }
      }
    }
  }
}

/** Whether a name as written can reach an object in `actual` (pg_temp is the session's own pg_temp_N). */
function isReachable(written: string | undefined, actual: string): boolean {
  const schema = actual.toLowerCase();
  if (written === undefined) return !schema.startsWith("pg_temp");
  return written === "pg_temp" ? schema.startsWith("pg_temp") : schema === written;
}

function matchesSchema(table: string, facts: RelationFacts): boolean {
  return isReachable(schemaOf(table), facts.schema);
}

function addView(walk: StatementWalk, facts: RelationFacts, parser: PgQueryWasm): void {
  if (facts.definition === undefined) return;
  const view = `${facts.schema}.${facts.name}`;
  const noun = facts.kind === "m" ? "materialized view" : "view";
  const [inner, ...rest] = walkDefinitions(facts.definition, parser) ?? [];
  if (!inner || rest.length > 0) {
    walk.note("dangerous", `reads ${noun} ${view}, whose definition cannot be read`);
    return;
  }
  for (const table of inner.tables) {
    if (walk.tables.has(table)) continue;
    walk.tables.add(table);
    walk.note("read", `reads ${table} through ${noun} ${view}`);
  }
  // A materialized view's functions ran when it was refreshed, not when it is read; its rows still come from
  // its tables, so table rules see them.
  if (facts.kind === "m") return;
  mergeCalls(walk, inner, `reads ${noun} ${view}, which`);
}

/**
 * What a view's definition or a function's body does besides reading tables: findings, calls, operators. Its
 * functions join the statement's, so a rule that allows by function must name them too.
 */
function mergeCalls(walk: StatementWalk, inner: StatementWalk, via: string): void {
  for (const name of inner.functions) walk.functions.add(name);
  for (const finding of inner.findings) {
    if (finding.class !== "read") walk.note(finding.class, `${via} ${finding.reason}`);
  }
  for (const call of inner.calls) walk.calls.push({ ...call, via: call.via ? `${via} ${call.via}` : via });
  for (const operator of inner.operators) walk.operators.add(operator);
  for (const reach of inner.tableReaches) walk.tableReaches.add(reach);
}

function prefix(call: Call): string {
  return call.via ? `${call.via} ` : "";
}

/** A call resolves to any function of its name the search path may reach: the strictest of them counts. */
function resolveCall(walk: StatementWalk, call: Call, candidates: FunctionFacts[]): void {
  const reachable = candidates.filter((facts) =>
    isReachable(call.schema === undefined ? undefined : bareOf(call.schema), facts.schema),
  );
  if (reachable.length === 0) {
    const isBuiltinSchema = call.schema === undefined || BUILTIN_SCHEMAS.has(call.schema);
    if (call.isJudgedByName || (isBuiltinSchema && isSafeBuiltin(call.bare))) return;
    walk.note(
      "write",
      `${prefix(call)}calls ${call.qualified}(), which is not a function the target's catalog knows`,
    );
    return;
  }
  for (const facts of reachable) {
    if (call.isJudgedByName && BUILTIN_SCHEMAS.has(facts.schema)) continue;
    const capability = capabilityOf(facts);
    walk.note(capability.class, `${prefix(call)}calls ${call.qualified}(): ${capability.reason}`);
  }
}

function capabilityOf(facts: FunctionFacts): Capability {
  if (facts.schema === "information_schema" && facts.volatility !== "v") {
    return { class: "read", reason: `information_schema.${facts.name}() is a built-in` };
  }
  return capabilityOfFacts(facts);
}

function resolveOperator(walk: StatementWalk, operator: string, candidates: FunctionFacts[]): void {
  for (const facts of candidates) {
    const capability = capabilityOf(facts);
    if (capability.class !== "read") {
      walk.note(capability.class, `uses operator ${operator}, whose function ${capability.reason}`);
    }
  }
}
