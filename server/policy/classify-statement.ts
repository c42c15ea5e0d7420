import "server-only";
import type { ParseResult } from "libpg-query";
import type { CachedTargetCatalog, DerivedValues, TargetCatalog } from "./catalog";
import { statementKind, walkStatement } from "./handlers";
import {
  byteOffsetMapper,
  codePointToIndex,
  encoder,
  findTextProblem,
  loadParser,
  ParserCrash,
  type PgQueryWasm,
  parseBytes,
  parseCached,
  trimSqlWhitespace,
} from "./parser";
import { isSetConfigOnly } from "./pg-settings-call";
import { needsCatalog, resolveCapabilities } from "./resolve-capabilities";
import { rowBound } from "./row-bound";
import { CLASS_SEVERITY, type Classification, type ClassifiedStatement, type StatementClass } from "./types";
import type { InputContext, StatementWalk } from "./walk";

// Classifies SQL input with PostgreSQL's own parser: every statement gets a class (read, write,
// unbounded-write, ddl, privilege, dangerous, unparseable) with reasons, the tables (through views) and the
// functions it names, and the input gets the strictest class of its statements. A statement is a read only
// when everything it calls is known to be free of side effects: the shipped allowlist of built-ins, and the
// target's own catalog (when given) for the rest. Each statement's text is its exact slice of the input, so
// the bytes classified are the bytes the target runs.
// It decides nothing: rules and decisions are evaluate-rules.ts's job. It never looks at the text with
// patterns, only at the parse tree, so literals and comments never count.

export interface ClassifyOptions {
  /**
   * The target's catalog: user-defined functions, views, operators. Without it they count as writes. A catalog
   * that remembers its answers (catalogFor's) remembers the classification of an exact text with them: as long as
   * every answer it used, and forgotten with them (./catalog.ts, `derived`).
   */
  catalog?: TargetCatalog | CachedTargetCatalog;
  /**
   * Remember the parser's answer for this exact text within this scope (the pipeline passes the connection id);
   * without it the text is parsed every time. The parse depends on the text alone (./parser.ts).
   */
  parseCacheScope?: string;
}

function unparseable(input: string, message: string, position?: number): Classification {
  return {
    class: "unparseable",
    statements: [
      {
        index: 0,
        text: trimSqlWhitespace(input),
        class: "unparseable",
        kind: "ParseError",
        tables: [],
        functions: [],
        reasons: [message],
      },
    ],
    error: position === undefined ? { message } : { message, position },
  };
}

function strictest(statements: ClassifiedStatement[]): StatementClass {
  let result: StatementClass = "read";
  for (const statement of statements) {
    if (CLASS_SEVERITY[statement.class] > CLASS_SEVERITY[result]) result = statement.class;
  }
  return result;
}

/**
 * `classification` with its statement at `index` classed a write for `reason` (something the parse tree could not
 * show, such as the target refusing it in a read-only transaction), the input's class recomputed.
 */
export function classifiedAsWrite(
  classification: Classification,
  index: number,
  reason: string,
): Classification {
  const statements = classification.statements.map((s, i) =>
    i === index ? { ...s, class: "write" as const, reasons: [reason] } : s,
  );
  return { ...classification, class: strictest(statements), statements };
}

/** Why a catalog lookup failed, in words fit for a person (never the target's credentials). */
export class CatalogUnavailableError extends Error {}

async function classifyTree(
  input: string,
  bytes: Uint8Array,
  tree: ParseResult,
  instance: PgQueryWasm,
  options: ClassifyOptions,
): Promise<Classification> {
  const raws = tree.stmts ?? [];
  if (raws.length === 0) return unparseable(input, "no statement");
  const context: InputContext = { parser: instance, prepared: new Map(), depth: 0 };
  const walks = raws.map((raw) => {
    const walk = walkStatement(raw, context);
    const stmt = raw.stmt;
    if (stmt && "PrepareStmt" in stmt) context.prepared.set(stmt.PrepareStmt.name ?? "", walk);
    if (stmt && "DeallocateStmt" in stmt) {
      if (stmt.DeallocateStmt.isall) context.prepared.clear();
      else context.prepared.delete(stmt.DeallocateStmt.name ?? "");
    }
    return walk;
  });
  const catalog = walks.some(needsCatalog) && options.catalog ? failingClearly(options.catalog) : undefined;
  await resolveCapabilities(walks, catalog, instance);
  // What an EXECUTE of a statement prepared elsewhere does itself (its parameters' expressions), before the unknown
  // statement makes it a write: a native client's session may show what that statement is (the pipeline).
  const ownOfExecute = new Map<StatementWalk, NonNullable<ClassifiedStatement["executesElsewhere"]>>();
  for (const walk of walks) {
    for (const { name, prepared } of walk.executes) {
      walk.note(prepared.class, `EXECUTE runs ${name}, prepared above as ${prepared.class}`);
    }
    const [elsewhere] = walk.executedElsewhere;
    if (elsewhere !== undefined && walk.executedElsewhere.length === 1) {
      ownOfExecute.set(walk, { name: elsewhere, class: walk.class, reasons: reasonsOf(walk, walk.class) });
    }
    for (const name of walk.executedElsewhere) {
      walk.note("write", `EXECUTE runs ${name}, prepared elsewhere: an unknown statement counts as a write`);
    }
  }
  const toIndex = byteOffsetMapper(input, bytes.length);
  const statements = raws.map((raw, index): ClassifiedStatement => {
    const walk = walks[index] as StatementWalk;
    const startByte = raw.stmt_location ?? 0;
    const endByte = raw.stmt_len ? startByte + raw.stmt_len : bytes.length;
    const statementClass = walk.class;
    const reasons = reasonsOf(walk, statementClass);
    const maxRows = rowBound(raw.stmt);
    const portal = portalOf(raw.stmt);
    const executesElsewhere = ownOfExecute.get(walk);
    const prepares = raw.stmt && "PrepareStmt" in raw.stmt ? raw.stmt.PrepareStmt.name : undefined;
    const setsSessionOnly =
      statementClass === "read" &&
      raw.stmt !== undefined &&
      "SelectStmt" in raw.stmt &&
      isSetConfigOnly(raw.stmt.SelectStmt);
    return {
      index,
      text: trimSqlWhitespace(input.slice(toIndex(startByte), toIndex(endByte))),
      class: statementClass,
      kind: statementKind(raw),
      tables: [...walk.tables],
      functions: [...walk.functions],
      reasons,
      ...(maxRows !== undefined && { maxRows }),
      ...(portal !== undefined && { portal }),
      ...(executesElsewhere && { executesElsewhere }),
      ...(prepares !== undefined && { prepares }),
      ...(setsSessionOnly && { setsSessionOnly }),
    };
  });
  return { class: strictest(statements), statements, ...(catalog && { consultedCatalog: true }) };
}

function reasonsOf(walk: StatementWalk, statementClass: StatementClass): string[] {
  return [
    ...new Set(walk.findings.filter((finding) => finding.class === statementClass).map((f) => f.reason)),
  ];
}

/** The cursor a DECLARE opens or a FETCH (not MOVE: it returns no rows) reads; the parser has folded its case. */
function portalOf(stmt: NonNullable<ParseResult["stmts"]>[number]["stmt"]): string | undefined {
  if (stmt && "DeclareCursorStmt" in stmt) return stmt.DeclareCursorStmt.portalname ?? undefined;
  if (stmt && "FetchStmt" in stmt && !stmt.FetchStmt.ismove) return stmt.FetchStmt.portalname ?? undefined;
  return undefined;
}

/** The catalog, its failures turned into a refusal that names it (anything else is a classifier bug). */
function failingClearly(catalog: TargetCatalog): TargetCatalog {
  const guard =
    <A extends unknown[], R>(ask: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      ask(...args).catch((error: unknown) => {
        throw new CatalogUnavailableError(describeCatalogError(error));
      });
  return {
    functions: guard((names: string[]) => catalog.functions(names)),
    operators: guard((names: string[]) => catalog.operators(names)),
    relations: guard((names: string[]) => catalog.relations(names)),
    relationsIn: guard((schema: string | null) => catalog.relationsIn(schema)),
  };
}

function describeCatalogError(error: unknown): string {
  const detail = error instanceof Error && error.message ? `: ${error.message}` : "";
  return `the target's catalog could not be read${detail}, so what the statement calls cannot be known and nothing runs (fail closed)`;
}

/**
 * Classifies SQL input, one or many statements. Never throws: anything that cannot be read (parse error,
 * empty input, text the server would read differently, a parser failure, a catalog that does not answer) is
 * "unparseable" with a message.
 */
export async function classifySql(input: string, options: ClassifyOptions = {}): Promise<Classification> {
  if (typeof input !== "string") return unparseable("", "the input is not text");
  const catalog = options.catalog;
  if (catalog && "derived" in catalog) {
    // A classification is a function of the text and the catalog's answers alone (the built-ins and the parser
    // are fixed): nothing of the caller, the connection's rules or the session goes in. Only a classification
    // that could be made is remembered; a refusal (parser or catalog unavailable, text refused) is made again.
    // Only a text seen before (its parse remembered): texts with a new literal each time (pgbench's simple
    // protocol) would fill the memory with classifications never asked again, for the collector to walk.
    const derived = catalog.derived as DerivedValues<Classification>;
    const remembered = derived.remembered(input);
    if (remembered) {
      classifyStats.remembered++;
      return remembered;
    }
    let repeated = false;
    return derived.derive(
      input,
      async (answering) => {
        const classification = await classifyNow(input, { ...options, catalog: answering }, (seen) => {
          repeated = seen;
        });
        return classification.error || !repeated ? classification : frozen(classification);
      },
      (classification) => classification.error === undefined && repeated,
    );
  }
  return classifyNow(input, options);
}

/** Classifications answered from what a catalog remembered (tests read it). */
export const classifyStats = { remembered: 0 };

/** Freezes a classification that may be kept (it is then shared by every caller of the same text). */
function frozen(classification: Classification): Classification {
  for (const statement of classification.statements) {
    Object.freeze(statement.tables);
    Object.freeze(statement.functions);
    Object.freeze(statement.reasons);
    Object.freeze(statement);
  }
  Object.freeze(classification.statements);
  return Object.freeze(classification);
}

/** `parsed` hears whether the parse was remembered from an earlier time (the text is a repeated one). */
async function classifyNow(
  input: string,
  options: ClassifyOptions,
  parsed?: (repeated: boolean) => void,
): Promise<Classification> {
  const problem = findTextProblem(input);
  if (problem) return unparseable(input, problem.message, problem.position);
  if (trimSqlWhitespace(input) === "") return unparseable(input, "no statement");
  let instance: PgQueryWasm;
  try {
    instance = await loadParser();
  } catch (error) {
    return unparseable(input, `the SQL parser is unavailable: ${String(error)}`);
  }
  try {
    const bytes = encoder.encode(input);
    const outcome =
      options.parseCacheScope === undefined
        ? parseBytes(instance, bytes)
        : parseCached(instance, input, bytes, options.parseCacheScope, parsed);
    if (!outcome.ok) {
      const position = outcome.cursor === undefined ? undefined : codePointToIndex(input, outcome.cursor);
      return unparseable(input, outcome.message, position);
    }
    return await classifyTree(input, bytes, outcome.tree, instance, options);
  } catch (error) {
    // A trapped parser is replaced on the next call. Anything else is a classifier bug: it must still
    // refuse rather than throw past the policy stage.
    if (error instanceof ParserCrash || error instanceof CatalogUnavailableError) {
      return unparseable(input, error.message);
    }
    return unparseable(input, `the classifier failed: ${String(error)}`);
  }
}

export { isSignificantFunction } from "./functions";
