// Lineage of result columns, read from the planner's own answer: `EXPLAIN (VERBOSE, FORMAT JSON)` of a
// statement gives each plan node's output expressions with qualified source columns, views and inlinable SQL
// functions already expanded. This module turns such a plan (plus a little catalog: the columns of the relations
// it scans, which functions are the target's own) into, per output column, the masked source columns it derives
// from, and the masked columns the statement filters, joins, groups or orders on. Pure: no I/O. It does not run
// EXPLAIN (server/targets/explain.ts does) and does not mask cells (mask-rows.ts does, with `maskAs`).
//
// Printed expressions are read by ./lineage-expression.ts.
//
// Fail closed: whatever it cannot trace (a function of the target's own that is not inlined, a built-in that runs
// SQL text, an unresolved reference, a node it does not know) makes the column `unknown`, which masks it.
import "server-only";

import { type CompiledRule, compileColumnRules, matchColumnRule } from "./column-rules";
import { IDENT, scanExpression, unquote, withoutRevealingNothing } from "./lineage-expression";
import type { ColumnRule } from "./types";

/** One node of `EXPLAIN (VERBOSE, FORMAT JSON)`'s plan, as far as lineage reads it. */
export interface PlanNode {
  "Node Type": string;
  Output?: string[];
  Plans?: PlanNode[];
  Alias?: string;
  "Relation Name"?: string;
  Schema?: string;
  "Subplan Name"?: string;
  "CTE Name"?: string;
  "Function Name"?: string;
  "Function Call"?: string;
  [field: string]: unknown;
}

/** What the catalog says about a relation a plan scans. */
export interface RelationInfo {
  /** pg_class.relkind: r table, v view, m materialized view, f foreign table, p partitioned table */
  kind: string;
  columns: string[];
  /** For a materialized view: the lineage of each of its columns, from its definition (same order). */
  derived?: Derivation[];
}

export interface IndexInfo {
  /** "schema.table" */
  relation: string;
  /** key columns (plain ones; an expression key's columns are in `others`) */
  keys: string[];
  /** columns its key expressions and its predicate (a partial index's WHERE) read */
  others: string[];
}

export interface LineageCatalog {
  /** by "schema.name" */
  relations: ReadonlyMap<string, RelationInfo>;
  /** Names (lower case) of functions that live outside pg_catalog and information_schema. */
  ownFunctions: ReadonlySet<string>;
  /** Indexes a plan scans, by name (several when schemas reuse a name). */
  indexes?: ReadonlyMap<string, readonly IndexInfo[]>;
}

/** What a value derives from: source columns ("schema.table.column"), or why that cannot be known. */
export interface Derivation {
  sources: Set<string>;
  unknown?: string;
}

export interface ColumnLineage {
  /** The type label the column is masked as (the first masked source's type), when it is masked. */
  maskAs?: string;
  /** The masked source columns ("schema.table.column") it derives from. */
  sources: string[];
  /** Why the lineage could not be worked out (the column is then masked whole). */
  unknown?: string;
  /** True when the column is a source column as it is (not computed): its masking style applies as usual. */
  plain?: boolean;
  /**
   * For JSON built from a table's whole rows (`row_to_json(e)`, `to_jsonb(e.*)`, `json_agg(e)`): the keys that
   * hold masked columns, with their types; only those values are masked inside the document.
   */
  keys?: Record<string, string>;
}

export interface MaskedPredicate {
  column: string;
  type: string;
}

export interface StatementLineage {
  columns: ColumnLineage[];
  /** Masked source columns the statement filters, joins, groups or orders on. */
  predicates: MaskedPredicate[];
}

/** The label of a column whose lineage the gateway could not work out. */
export const UNTRACED_TYPE = "untraced";

/**
 * Built-ins in pg_catalog that read data the expression does not name: SQL text they run, or a table they dump
 * by name. Whatever they return cannot be traced.
 */
const OPAQUE_BUILTINS = new Set([
  "query_to_xml",
  "query_to_xmlschema",
  "query_to_xml_and_xmlschema",
  "table_to_xml",
  "table_to_xmlschema",
  "table_to_xml_and_xmlschema",
  "schema_to_xml",
  "schema_to_xmlschema",
  "schema_to_xml_and_xmlschema",
  "database_to_xml",
  "database_to_xmlschema",
  "database_to_xml_and_xmlschema",
  "cursor_to_xml",
  "cursor_to_xmlschema",
  "ts_stat",
  "ts_rewrite",
]);

/** Plan fields that hold a condition or key: what a statement filters, joins, groups or orders on. */
const PREDICATE_FIELDS = [
  "Filter",
  "Join Filter",
  "Hash Cond",
  "Merge Cond",
  "Index Cond",
  "Recheck Cond",
  "TID Cond",
  "One-Time Filter",
  "Run Condition",
  "Order By",
  "Sort Key",
  "Presorted Key",
  "Group Key",
  "Hash Key",
  "Cache Key",
  "Grouping Sets",
  // A set-returning function's arguments decide how many rows come back (generate_series(1, salary / 1000)).
  "Function Call",
  "Table Function Call",
];

/** Nodes that pass their only child's columns through unchanged when they print no Output. */
const PASS_THROUGH = new Set([
  "Hash",
  "Sort",
  "Incremental Sort",
  "Limit",
  "Materialize",
  "Memoize",
  "Unique",
  "Gather",
  "Gather Merge",
  "LockRows",
  "SetOp",
]);
/** Nodes whose column i is the union of their children's column i. */
const UNION_NODES = new Set(["Append", "Merge Append", "Recursive Union"]);

function walkPlan(node: PlanNode, visit: (node: PlanNode) => void) {
  visit(node);
  for (const child of node.Plans ?? []) walkPlan(child, visit);
}

function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsOf);
  return [];
}

/** Relations ("schema.name"), function and index names a plan mentions: what the catalog lookup needs. */
export function planReferences(plan: PlanNode): {
  relations: string[];
  functions: string[];
  indexes: string[];
} {
  const relations = new Set<string>();
  const functions = new Set<string>();
  const indexes = new Set<string>();
  walkPlan(plan, (node) => {
    if (node["Relation Name"] && node.Schema) relations.add(`${node.Schema}.${node["Relation Name"]}`);
    if (typeof node["Index Name"] === "string") indexes.add(node["Index Name"]);
    if (node["Function Name"]) functions.add(String(node["Function Name"]).toLowerCase());
    for (const [key, value] of Object.entries(node)) {
      if (key === "Plans") continue;
      for (const s of stringsOf(value)) {
        for (const t of scanExpression(s)) {
          if (t.kind === "name" && t.call) functions.add(t.parts[t.parts.length - 1]!.toLowerCase());
        }
      }
    }
  });
  return { relations: [...relations], functions: [...functions], indexes: [...indexes] };
}

const EMPTY: Derivation = { sources: new Set() };

function union(into: Derivation, from: Derivation) {
  for (const s of from.sources) into.sources.add(s);
  if (from.unknown && !into.unknown) into.unknown = from.unknown;
}

class PlanResolver {
  private readonly aliases = new Map<string, PlanNode[]>();
  private readonly subplans = new Map<string, PlanNode>();
  private readonly params = new Map<string, { node: PlanNode; index: number }>();
  private readonly relationScans: { node: PlanNode; relation: string }[] = [];
  private readonly otherScans: PlanNode[] = [];
  private readonly columnsMemo = new Map<PlanNode, Derivation[] | "busy">();

  constructor(
    plan: PlanNode,
    private readonly catalog: LineageCatalog,
    /** how many parameters ($1...) the client binds: values it sends, derived from no column */
    private readonly clientParameters = 0,
  ) {
    walkPlan(plan, (node) => {
      if (node.Alias !== undefined) {
        const list = this.aliases.get(node.Alias) ?? [];
        list.push(node);
        this.aliases.set(node.Alias, list);
        if (node["Relation Name"] && node.Schema) {
          this.relationScans.push({ node, relation: `${node.Schema}.${node["Relation Name"]}` });
        } else this.otherScans.push(node);
      }
      const sub = node["Subplan Name"];
      if (typeof sub === "string") {
        const cte = /^CTE (.+)$/.exec(sub);
        this.subplans.set(
          cte ? `CTE ${cte[1]}` : (/^(SubPlan \d+|InitPlan \d+)/.exec(sub)?.[1] ?? sub),
          node,
        );
        const returns = /\(returns (.+)\)$/.exec(sub);
        if (returns)
          returns[1]!.split(",").forEach((p, index) => {
            this.params.set(p.trim(), { node, index });
          });
      }
    });
  }

  /** The derivation of each output column of `node`. */
  columns(node: PlanNode): Derivation[] {
    const memo = this.columnsMemo.get(node);
    if (memo === "busy") return []; // a recursive CTE reading itself adds no new source
    if (memo) return memo;
    this.columnsMemo.set(node, "busy");
    let result: Derivation[];
    const children =
      node.Plans?.filter(
        (p) => p["Parent Relationship"] !== "InitPlan" && p["Parent Relationship"] !== "SubPlan",
      ) ?? [];
    if (node.Output) result = node.Output.map((e) => this.expression(e));
    else if (UNION_NODES.has(node["Node Type"])) {
      result = [];
      for (const child of children) {
        this.columns(child).forEach((d, i) => {
          result[i] ??= { sources: new Set() };
          union(result[i]!, d);
        });
      }
    } else if (PASS_THROUGH.has(node["Node Type"]) && children.length === 1)
      result = this.columns(children[0]!);
    else result = [{ sources: new Set(), unknown: `the plan node ${node["Node Type"]} shows no output` }];
    this.columnsMemo.set(node, result);
    return result;
  }

  private all(node: PlanNode): Derivation {
    const out: Derivation = { sources: new Set() };
    for (const d of this.columns(node)) union(out, d);
    return out;
  }

  relationColumn(relation: string, column: string): Derivation {
    const info = this.catalog.relations.get(relation);
    if (!info)
      return { sources: new Set(), unknown: `the gateway could not read the columns of ${relation}` };
    if (relation.startsWith("pg_catalog.pg_statistic"))
      return { sources: new Set(), unknown: `${relation} holds samples of every table's values` };
    if (column === "*") {
      const out: Derivation = { sources: new Set() };
      for (const c of info.columns) union(out, this.relationColumn(relation, c));
      return out;
    }
    const at = info.columns.indexOf(column);
    if (at < 0) return EMPTY; // a system column (ctid, xmin...): where a row is, not what it holds
    if (info.kind === "m") {
      return (
        info.derived?.[at] ?? {
          sources: new Set(),
          unknown: `the definition of ${relation} could not be read`,
        }
      );
    }
    return { sources: new Set([`${relation}.${column}`]) };
  }

  private readonly scanning = new Set<PlanNode>();

  /** The columns of the table row `alias` stands for, and what each derives from; undefined if not one table. */
  tableRow(alias: string): [string, Derivation][] | undefined {
    const nodes = this.aliases.get(alias);
    const node = nodes?.length === 1 ? nodes[0] : undefined;
    if (!node?.["Relation Name"] || !node.Schema) return undefined;
    const relation = `${node.Schema}.${node["Relation Name"]}`;
    const info = this.catalog.relations.get(relation);
    return info?.columns.map((c) => [c, this.relationColumn(relation, c)]);
  }

  /** What `alias.column` (`*` for the whole row) of a scan node derives from. */
  private scanColumn(node: PlanNode, column: string): Derivation {
    // A function scan's arguments may name the scan's own columns only through itself: nothing new.
    if (this.scanning.has(node)) return EMPTY;
    this.scanning.add(node);
    try {
      return this.scanColumnOnce(node, column);
    } finally {
      this.scanning.delete(node);
    }
  }

  private scanColumnOnce(node: PlanNode, column: string): Derivation {
    const relation =
      node["Relation Name"] && node.Schema ? `${node.Schema}.${node["Relation Name"]}` : undefined;
    if (relation && node["Node Type"] === "ModifyTable") {
      // RETURNING reads the new row: what the statement writes into it (its subplan's outputs) and what was there.
      const out: Derivation = { sources: new Set() };
      union(out, this.relationColumn(relation, column));
      for (const child of node.Plans ?? []) union(out, this.all(child));
      return out;
    }
    if (relation) return this.relationColumn(relation, column);
    const type = node["Node Type"];
    if (type === "Subquery Scan") {
      const child = node.Plans?.find((p) => p["Parent Relationship"] === "Subquery");
      return child ? this.all(child) : { sources: new Set(), unknown: "a subquery without a plan" };
    }
    if (type === "CTE Scan" || type === "WorkTable Scan") {
      const cte = this.subplans.get(`CTE ${node["CTE Name"]}`);
      return cte
        ? this.all(cte)
        : { sources: new Set(), unknown: `the CTE ${node["CTE Name"]} was not found` };
    }
    if (type === "Function Scan") {
      const name = String(node["Function Name"] ?? "").toLowerCase();
      if (node.Schema !== "pg_catalog" || OPAQUE_BUILTINS.has(name))
        return {
          sources: new Set(),
          unknown: `the function ${node["Function Name"]} returns rows the gateway cannot trace`,
        };
      return this.expression(String(node["Function Call"] ?? ""));
    }
    if (type === "Values Scan" || type === "Result") return EMPTY;
    if (type === "Table Function Scan")
      return this.expression(stringsOf(node["Table Function Call"]).join(" "));
    return { sources: new Set(), unknown: `a ${type} the gateway cannot trace` };
  }

  /** What one printed expression derives from; `everyReference` keeps what reveals nothing (`x IS NULL`) too. */
  expression(printed: string, everyReference = false): Derivation {
    const out: Derivation = { sources: new Set() };
    for (const token of scanExpression(everyReference ? printed : withoutRevealingNothing(printed))) {
      if (token.kind === "param") {
        const p = this.params.get(token.name);
        // A subplan's own parameter wins a clash of numbers: it derives from more, never from less.
        if (!p && Number(token.name.slice(1)) <= this.clientParameters && token.name !== "$0") continue;
        if (!p) out.unknown ??= `the parameter ${token.name} cannot be traced`;
        else union(out, this.columns(p.node)[p.index] ?? { sources: new Set(), unknown: "a subplan output" });
        continue;
      }
      if (token.kind === "subplan") {
        const node = this.subplans.get(token.name);
        if (!node) out.unknown ??= `${token.name} cannot be traced`;
        else union(out, this.all(node));
        continue;
      }
      if (token.type) continue;
      const name = token.parts[token.parts.length - 1]!;
      if (token.call) {
        const fn = name.toLowerCase();
        if (this.catalog.ownFunctions.has(fn))
          out.unknown ??= `the function ${name} is the target's own and can read any table`;
        else if (OPAQUE_BUILTINS.has(fn)) out.unknown ??= `${name} runs SQL the gateway cannot trace`;
        continue;
      }
      if (token.parts.length === 1) {
        const whole = this.aliases.get(name);
        if (whole) for (const node of whole) union(out, this.scanColumn(node, "*"));
        for (const { node, relation } of this.relationScans) {
          if (this.catalog.relations.get(relation)?.columns.includes(name))
            union(out, this.scanColumn(node, name));
        }
        // A bare name may be a column of a function, VALUES or subquery scan when it is the plan's only one.
        if (!whole && this.relationScans.length === 0)
          for (const node of this.otherScans) union(out, this.scanColumn(node, name));
        continue;
      }
      const nodes = this.aliases.get(token.parts[0]!);
      if (!nodes) {
        out.unknown ??= `the reference ${token.parts.join(".")} cannot be traced`;
        continue;
      }
      for (const node of nodes) union(out, this.scanColumn(node, token.parts[1]!));
    }
    return out;
  }

  /**
   * Every condition and key of every node: what the statement filters, joins, groups or orders on. An index scan
   * can do either without printing it: the order of an index read without a condition on its keys is the
   * order of its keys, and a partial index's WHERE is dropped from the plan's conditions it implies. So the
   * columns of a partial index's predicate and expressions count, and its key columns do unless the index
   * condition names them all.
   */
  predicates(plan: PlanNode): Derivation {
    const out: Derivation = { sources: new Set() };
    // Parameters an InitPlan returns that nothing printed uses are used where EXPLAIN does not print (a LIMIT or
    // OFFSET count): what they derive from decides how many rows come back.
    const printed = new Set<string>();
    walkPlan(plan, (node) => {
      for (const [key, value] of Object.entries(node)) {
        if (key === "Plans" || key === "Subplan Name") continue;
        for (const s of stringsOf(value))
          for (const t of scanExpression(s)) if (t.kind === "param") printed.add(t.name);
      }
    });
    for (const [param, { node, index }] of this.params) {
      if (!printed.has(param)) union(out, this.columns(node)[index] ?? { sources: new Set() });
    }
    walkPlan(plan, (node) => {
      for (const field of PREDICATE_FIELDS) {
        for (const s of stringsOf(node[field])) union(out, this.expression(s));
      }
      // A set-returning function in the select list multiplies rows by what its arguments say.
      if (node["Node Type"] === "ProjectSet")
        for (const s of node.Output ?? []) union(out, this.expression(s));
      const indexName = node["Index Name"];
      if (typeof indexName !== "string") return;
      const known = this.catalog.indexes?.get(indexName);
      if (!known?.length) {
        // Not in the catalog any more (dropped meanwhile): every column of the table it indexes may be in it.
        if (node["Relation Name"]) union(out, this.scanColumn(node, "*"));
        return;
      }
      const cond = this.expression(stringsOf(node["Index Cond"]).join(" "), true);
      for (const index of known) {
        for (const c of index.others) union(out, this.relationColumn(index.relation, c));
        const keys = index.keys.map((c) => this.relationColumn(index.relation, c));
        if (keys.some((k) => [...k.sources].some((s) => !cond.sources.has(s))))
          for (const k of keys) union(out, k);
      }
    });
    return out;
  }
}

/** The derivation of every output column of a plan (used for a materialized view's definition). */
export function derivePlanColumns(plan: PlanNode, catalog: LineageCatalog): Derivation[] {
  return new PlanResolver(plan, catalog).columns(plan);
}

const compiledRules = new WeakMap<readonly ColumnRule[], CompiledRule[]>();

/** The type a column rule masks a source column ("schema.table.column") as, if any. */
function ruleFor(rules: readonly CompiledRule[], source: string, connection: string): string | undefined {
  const [schema, table, ...rest] = source.split(".");
  return matchColumnRule(rules, { connection, schema, table, name: rest.join(".") });
}

/**
 * Lineage of a statement from its plan: which output columns derive from masked source columns (every column
 * rule of the connection's masking config), and which masked columns it filters, joins, groups or orders on.
 */
export function lineageFromPlan(
  plan: PlanNode,
  catalog: LineageCatalog,
  columnRules: readonly ColumnRule[],
  connection: string,
  clientParameters = 0,
): StatementLineage {
  let rules = compiledRules.get(columnRules);
  if (!rules) {
    rules = compileColumnRules(columnRules);
    compiledRules.set(columnRules, rules);
  }
  const resolver = new PlanResolver(plan, catalog, clientParameters);
  const masked = (d: Derivation) =>
    [...d.sources]
      .sort()
      .map((column) => ({ column, type: ruleFor(rules, column, connection) }))
      .filter((m): m is MaskedPredicate => m.type !== undefined);
  const plainRef = new RegExp(`^(?:${IDENT}\\.)?(${IDENT})$`);
  const rowJson = new RegExp(
    `^(?:pg_catalog\\.)?(?:row_to_json|to_json|to_jsonb|json_agg|jsonb_agg)\\((${IDENT})\\.\\*\\)$`,
  );
  /** The masked keys of JSON built from a table's rows, when the column is exactly that. */
  const maskedKeys = (printed: string | undefined): Record<string, string> | undefined => {
    // An upper node (Limit, Sort) prints its child's expression in parentheses.
    const bare = printed?.startsWith("(") && printed.endsWith(")") ? printed.slice(1, -1) : printed;
    const alias =
      printed === undefined ? undefined : (rowJson.exec(printed) ?? rowJson.exec(bare ?? ""))?.[1];
    const row = alias === undefined ? undefined : resolver.tableRow(unquote(alias));
    if (!row || row.some(([, d]) => d.unknown)) return undefined;
    const keys: Record<string, string> = {};
    for (const [column, d] of row) {
      const type = masked(d)[0]?.type;
      if (type) keys[column] = type;
    }
    return keys;
  };
  const columns = resolver.columns(plan).map((d, i): ColumnLineage => {
    const sources = masked(d);
    if (d.unknown)
      return {
        maskAs: sources[0]?.type ?? UNTRACED_TYPE,
        sources: sources.map((s) => s.column),
        unknown: d.unknown,
      };
    if (sources.length === 0) return { sources: [] };
    const printed = plan.Output?.[i];
    const name = printed === undefined ? undefined : plainRef.exec(printed)?.[1];
    const plain =
      sources.length === 1 && name !== undefined && sources[0]!.column.endsWith(`.${unquote(name)}`);
    const keys = maskedKeys(printed);
    return {
      maskAs: sources[0]!.type,
      sources: sources.map((s) => s.column),
      ...(plain && { plain }),
      ...(keys && { keys }),
    };
  });
  const predicates = masked(resolver.predicates(plan));
  return { columns, predicates };
}

/** Lineage when nothing could be traced: every one of `count` columns masked, with the reason. */
export function untracedLineage(count: number, reason: string): StatementLineage {
  return {
    columns: Array.from({ length: count }, () => ({ maskAs: UNTRACED_TYPE, sources: [], unknown: reason })),
    predicates: [],
  };
}
