import "server-only";
import type { RangeVar, WithClause } from "libpg-query";
import type { PgQueryWasm } from "./parser";
import { type BodyOf, type NodeTag, relationName } from "./tree";
import { CLASS_SEVERITY, type StatementClass } from "./types";

// Walks one statement's parse tree without recursion, calling the handler of each node it knows, and keeps
// what the handlers find: classes with reasons, tables, functions, and the calls and names the target's
// catalog must settle. It knows no statement form itself (handlers.ts does).

export interface Scope {
  /** False under a plain EXPLAIN: the statement is planned, never run. */
  isExecuted: boolean;
  /** CTE names visible here: an unqualified reference to one is not a table. */
  ctes: ReadonlySet<string> | null;
}

export interface InputContext {
  parser: PgQueryWasm;
  /** Statements prepared earlier in the same input, by name (their class is final once the catalog answered). */
  prepared: Map<string, StatementWalk>;
  /** How deep in SQL text run by query_to_xml() and the like. */
  depth: number;
}

/** A function call the target's catalog settles, unless its name already did. */
export interface Call {
  /** As written, lower-case: name or schema.name. */
  qualified: string;
  bare: string;
  schema?: string;
  /** Its name already classified it (set_config, SQL text, table readers): only a user-defined namesake counts. */
  isJudgedByName: boolean;
  /** Where it came from, for reasons: "ts_rewrite() runs SQL that" */
  via?: string;
}

export const MAX_SQL_TEXT_DEPTH = 3;

export interface Finding {
  class: StatementClass;
  reason: string;
}

export type Handler<Body> = (body: Body, scope: Scope, walk: StatementWalk) => Scope | null;
export type Handlers = { [K in NodeTag]?: Handler<BodyOf<K>> };

export class StatementWalk {
  severity = -1;
  readonly findings: Finding[] = [];
  readonly tables = new Set<string>();
  readonly functions = new Set<string>();
  /** Calls the catalog settles (see resolve-capabilities.ts). */
  readonly calls: Call[] = [];
  /** Operators that are not pg_catalog's by name: the catalog tells whether a user-defined one exists. */
  readonly operators = new Set<string>();
  /** Schemas (null: the whole database) whose every table a call reads (schema_to_xml() and the like). */
  readonly tableReaches = new Set<string | null>();
  /** Column names referenced (last part, lower-case), relation aliases, and whether any reference is `*`. */
  readonly columns = new Set<string>();
  readonly aliases = new Set<string>();
  hasStar = false;
  /** set_config() calls whose setting name a WHERE on pg_catalog.pg_settings fixes (pg-settings-call.ts). */
  readonly settingNames = new Map<object, string>();
  /**
   * Names this walk's classification holds for only if no schema but pg_catalog has a relation (or a user-defined
   * operator) of that name: checked against the target's catalog, refused without one (resolve-capabilities.ts).
   */
  readonly catalogOnly = { relations: new Set<string>(), operators: new Set<string>() };
  /** Prepared statements this one executes that the input did not prepare (not under a plain EXPLAIN). */
  readonly executedElsewhere: string[] = [];
  /** Statements prepared earlier in the input that this one executes (not under a plain EXPLAIN). */
  readonly executes: { name: string; prepared: StatementWalk }[] = [];
  private readonly values: unknown[] = [];
  private readonly scopes: Scope[] = [];

  constructor(
    readonly context: InputContext,
    private readonly handlers: Handlers,
  ) {}

  get class(): StatementClass {
    return (
      this.findings.find((finding) => CLASS_SEVERITY[finding.class] === this.severity)?.class ?? "dangerous"
    );
  }

  /** Records what a statement form does; under a plain EXPLAIN nothing runs, so only reading counts. */
  raise(scope: Scope, statementClass: StatementClass, reason: string): void {
    if (!scope.isExecuted && statementClass !== "read") return;
    this.note(statementClass, reason);
  }

  /** Records a function call: counted wherever it stands, even under a plain EXPLAIN (fail closed). */
  note(statementClass: StatementClass, reason: string): void {
    const severity = CLASS_SEVERITY[statementClass];
    if (severity > this.severity) this.severity = severity;
    this.findings.push({ class: statementClass, reason });
  }

  addTable(relation: RangeVar, scope: Scope | null): void {
    const isCteReference =
      scope?.ctes && !relation.schemaname && !relation.catalogname && scope.ctes.has(relation.relname ?? "");
    if (!isCteReference && relation.relname) this.tables.add(relationName(relation));
    if (relation.alias?.aliasname) this.aliases.add(relation.alias.aliasname.toLowerCase());
  }

  push(value: unknown, scope: Scope): void {
    if (value !== null && typeof value === "object") {
      this.values.push(value);
      this.scopes.push(scope);
    }
  }

  /** Pushes a statement's fields, giving its WITH names to the fields and to the CTEs that may see them. */
  descend(body: object, scope: Scope, skip?: string): null {
    const withClause: WithClause | undefined = (body as { withClause?: WithClause }).withClause;
    const ctes = withClause?.ctes ?? [];
    const names = ctes.map((cte) => ("CommonTableExpr" in cte ? (cte.CommonTableExpr.ctename ?? "") : ""));
    const inner = names.length > 0 ? { isExecuted: scope.isExecuted, ctes: union(scope.ctes, names) } : scope;
    for (const [key, value] of Object.entries(body)) {
      if (key !== skip && key !== "withClause") this.push(value, inner);
    }
    ctes.forEach((cte, i) => {
      const visible = withClause?.recursive ? names : names.slice(0, i);
      this.push(
        cte,
        visible.length > 0 ? { isExecuted: scope.isExecuted, ctes: union(scope.ctes, visible) } : scope,
      );
    });
    return null;
  }

  run(root: unknown, scope: Scope): void {
    this.push(root, scope);
    for (let value = this.values.pop(); value !== undefined; value = this.values.pop()) {
      const current = this.scopes.pop() as Scope;
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) this.push(value[i], current);
        continue;
      }
      const object = value as Record<string, unknown>;
      // RangeVar is often embedded without its tag (InsertStmt.relation, IntoClause.rel ...): know it by shape.
      if (typeof object.relname === "string" && typeof object.relpersistence === "string") {
        this.addTable(object as RangeVar, current);
      }
      for (const key in object) {
        const child = object[key];
        if (child === null || typeof child !== "object") continue;
        const first = key.charCodeAt(0);
        if (first < 65 || first > 90) {
          this.push(child, current);
          continue;
        }
        const handler = this.handlers[key as NodeTag] as Handler<unknown> | undefined;
        let childScope: Scope | null = current;
        if (handler) childScope = handler(child, current, this);
        else if (key.endsWith("Stmt")) {
          this.raise(current, "dangerous", `${key} is a statement the classifier does not know`);
        }
        if (childScope) this.push(child, childScope);
      }
    }
  }
}

export function union(base: ReadonlySet<string> | null, names: string[]): ReadonlySet<string> {
  const merged = new Set(base ?? []);
  for (const name of names) merged.add(name);
  return merged;
}

export function fixed(statementClass: StatementClass, reason: string): Handler<unknown> {
  return (_body, scope, walk) => {
    walk.raise(scope, statementClass, reason);
    return scope;
  };
}

export function targetName(relation: RangeVar | undefined): string {
  return relation ? relationName(relation) : "the table";
}
