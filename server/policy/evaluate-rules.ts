import "server-only";
import { isSignificantFunction } from "./classify-statement";
import { appliesToScope, approversOf, outranks, strictest } from "./evaluation-order";
import { globRegex } from "./glob";
import {
  type Classification,
  type ClassifiedStatement,
  DECISION_SEVERITY,
  type Decision,
  type DecisionReason,
  type PolicyDecision,
  type PolicyRule,
  type RuleContext,
} from "./types";

// Decides allow / review / deny for a classified input against policy rules. Pure: no I/O, no clock.
// It does not classify (classify-statement.ts does) and does not hold or run anything (the pipeline does).
// The order below is evaluation-order.ts's, shared with command rules; names match by glob.ts's matcher.
//
// Each statement is decided on its own and the input takes the strictest decision:
// - A rule matches a statement when every dimension it sets matches: connection, caller groups (any in
//   common), class, tables, functions. Tables and functions are read the fail-closed way: a deny or review
//   rule matches when ANY table (function) of the statement matches its patterns; an allow rule only when
//   EVERY table matches, and every function that can raise a class (see isSignificantFunction) is named.
// - Of the matching rules the most specific wins: more dimensions set wins; between equal counts, the rule
//   whose set dimensions weigh more (connection > groups > tables/functions > classes); remaining ties go
//   to the stricter action (deny > review > allow).
// - No matching rule: the default rules decide; if even they do not match, deny.
// - Unparseable input is denied with the parser's message, whatever the rules say.
// - A statement that filters, joins, groups or orders on a masked column (RuleContext.maskedPredicates, from
//   lineage) can confirm a value it never shows: it is also decided by the rules that set `columns` (an allow
//   rule only when every such column matches), by default held for review naming the column; the statement
//   takes the stricter of that and its ordinary decision. Rules with `columns` decide nothing else.

const DEFAULT_TABLE_SCHEMAS = ["public"];
// Unqualified calls resolve in pg_catalog first, then (by default) public.
const DEFAULT_FUNCTION_SCHEMAS = ["pg_catalog", "public"];

export function defaultRules(): PolicyRule[] {
  const rule = (
    id: string,
    name: string,
    statementClass: PolicyRule["classes"][number],
    action: Decision,
    message: string,
  ): PolicyRule => ({
    id,
    name,
    connectionId: null,
    groups: [],
    classes: [statementClass],
    tables: [],
    functions: [],
    action,
    message,
  });
  return [
    rule("default-read", "Reads run", "read", "allow", "reads run without review"),
    rule("default-write", "Writes need review", "write", "review", "writes wait for an approver"),
    rule(
      "default-unbounded-write",
      "Writes to every row need review",
      "unbounded-write",
      "review",
      "a write to every row of a table waits for an approver",
    ),
    rule("default-ddl", "Schema changes need review", "ddl", "review", "schema changes wait for an approver"),
    rule(
      "default-privilege",
      "Privilege changes are refused",
      "privilege",
      "deny",
      "changes to roles and privileges are not allowed through the gateway",
    ),
    rule(
      "default-dangerous",
      "Dangerous operations are refused",
      "dangerous",
      "deny",
      "operations that reach the server's files, other servers or other sessions are not allowed",
    ),
    rule(
      "default-unparseable",
      "Unreadable input is refused",
      "unparseable",
      "deny",
      "input the parser cannot read is never run",
    ),
  ];
}

/**
 * "orders" (no schema) matches orders in any schema; "billing.*" or "public.orders" match qualified names,
 * and an unqualified name is taken to be in its default schemas (public for tables).
 */
function matchesPattern(rawPattern: string, name: string, defaultSchemas: string[]): boolean {
  const pattern = rawPattern.trim().toLowerCase();
  if (pattern === "") return false;
  const parts = name.split(".");
  const bare = parts[parts.length - 1] ?? name;
  const regex = globRegex(pattern);
  if (!pattern.includes(".")) return regex.test(bare);
  if (parts.length === 1) return defaultSchemas.some((schema) => regex.test(`${schema}.${bare}`));
  return regex.test(name) || (parts.length > 2 && regex.test(parts.slice(-2).join(".")));
}

function matchesAny(patterns: string[], name: string, defaultSchemas: string[]): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, name, defaultSchemas));
}

function tablesMatch(rule: PolicyRule, statement: ClassifiedStatement): boolean {
  if (rule.tables.length === 0) return true;
  const matches = (table: string) => matchesAny(rule.tables, table, DEFAULT_TABLE_SCHEMAS);
  if (rule.action === "allow") return statement.tables.length > 0 && statement.tables.every(matches);
  return statement.tables.some(matches);
}

function functionsMatch(rule: PolicyRule, statement: ClassifiedStatement): boolean {
  if (rule.functions.length === 0) return true;
  const matches = (name: string) => matchesAny(rule.functions, name, DEFAULT_FUNCTION_SCHEMAS);
  if (rule.action === "allow") {
    return (
      statement.functions.some(matches) &&
      statement.functions.every((name) => !isSignificantFunction(name) || matches(name))
    );
  }
  return statement.functions.some(matches);
}

/** `employees.salary`, `salary`, `hr.*.*`: right-aligned on schema.table.column, `*` within a segment. */
function matchesColumn(rawPattern: string, column: string): boolean {
  const pattern = rawPattern.trim().toLowerCase().split(".");
  const parts = column.toLowerCase().split(".");
  if (pattern.length > parts.length) return false;
  const offset = parts.length - pattern.length;
  return pattern.every((p, i) => globRegex(p).test(parts[offset + i] ?? ""));
}

function columnsMatch(rule: PolicyRule, predicates: readonly { column: string }[]): boolean {
  const patterns = rule.columns ?? [];
  const matches = (p: { column: string }) => patterns.some((pattern) => matchesColumn(pattern, p.column));
  if (rule.action === "allow") return predicates.length > 0 && predicates.every(matches);
  return predicates.some(matches);
}

function ruleMatches(rule: PolicyRule, statement: ClassifiedStatement, context: RuleContext): boolean {
  if ((rule.columns?.length ?? 0) > 0) return false;
  return (
    appliesToScope(rule, context) &&
    (rule.classes.length === 0 || rule.classes.includes(statement.class)) &&
    tablesMatch(rule, statement) &&
    functionsMatch(rule, statement)
  );
}

/** [dimensions set, weight of the set dimensions]; compared in that order (evaluation-order.ts). */
function specificity(rule: PolicyRule): [number, number] {
  const hasConnection = rule.connectionId !== null;
  const hasGroups = rule.groups.length > 0;
  const hasTables = rule.tables.length > 0;
  const hasFunctions = rule.functions.length > 0;
  const hasClasses = rule.classes.length > 0;
  const count = [hasConnection, hasGroups, hasTables, hasFunctions, hasClasses].filter(Boolean).length;
  const weight =
    (hasConnection ? 8 : 0) +
    (hasGroups ? 4 : 0) +
    (hasTables || hasFunctions ? 2 : 0) +
    (hasClasses ? 1 : 0);
  return [count, weight];
}

function pickRule(
  rules: PolicyRule[],
  statement: ClassifiedStatement,
  context: RuleContext,
): PolicyRule | undefined {
  let best: PolicyRule | undefined;
  for (const rule of rules) {
    if (ruleMatches(rule, statement, context) && outranks(rule, best, specificity)) best = rule;
  }
  return best;
}

const ACTION_WORDS: Record<Decision, string> = {
  allow: "allows",
  review: "holds for review",
  deny: "denies",
};

/** The decision on a statement's masked predicates: the most specific rule with `columns`, else review. */
function decidePredicates(
  statement: ClassifiedStatement,
  predicates: readonly { column: string; type: string }[],
  rules: PolicyRule[],
  context: RuleContext,
): DecisionReason {
  const base = { statementIndex: statement.index, statement: statement.text, class: statement.class };
  let best: PolicyRule | undefined;
  for (const rule of rules) {
    if (
      (rule.columns?.length ?? 0) > 0 &&
      appliesToScope(rule, context) &&
      columnsMatch(rule, predicates) &&
      outranks(rule, best, specificity)
    )
      best = rule;
  }
  const named = predicates.map((p) => `${p.column} (${p.type})`).join(", ");
  if (!best) {
    return {
      ...base,
      ruleId: "default-masked-predicate",
      ruleName: "Conditions on masked columns need review",
      action: "review",
      message: `it filters, joins, groups or orders on the masked column ${named}, which can confirm a value it never shows`,
    };
  }
  return {
    ...base,
    ruleId: best.id,
    ruleName: best.name,
    action: best.action,
    message:
      best.message || `${best.name} ${ACTION_WORDS[best.action]} conditions on the masked column ${named}`,
    ...approversOf(best),
  };
}

function decideStatement(
  statement: ClassifiedStatement,
  rules: PolicyRule[],
  context: RuleContext,
): DecisionReason {
  const ordinary = decideOrdinary(statement, rules, context);
  const predicates = context.maskedPredicates?.get(statement.index);
  if (!predicates?.length || ordinary.action === "deny" || statement.class === "unparseable") return ordinary;
  const onPredicates = decidePredicates(statement, predicates, rules, context);
  const [a, b] = [DECISION_SEVERITY[onPredicates.action], DECISION_SEVERITY[ordinary.action]];
  if (a > b) return onPredicates;
  // Both hold it: the ordinary rule's approvers apply, and the reviewer reads both reasons.
  if (a === b && ordinary.action === "review")
    return { ...ordinary, message: `${ordinary.message}; ${onPredicates.message}` };
  return ordinary;
}

function decideOrdinary(
  statement: ClassifiedStatement,
  rules: PolicyRule[],
  context: RuleContext,
): DecisionReason {
  const base = { statementIndex: statement.index, statement: statement.text, class: statement.class };
  if (statement.class === "unparseable") {
    return {
      ...base,
      ruleId: null,
      ruleName: "parser",
      action: "deny",
      message: statement.reasons[0] ?? "the input could not be parsed",
    };
  }
  const rule = pickRule(rules, statement, context) ?? pickRule(defaultRules(), statement, context);
  if (!rule) {
    return { ...base, ruleId: null, ruleName: "no rule", action: "deny", message: "no rule allows this" };
  }
  return {
    ...base,
    ruleId: rule.id,
    ruleName: rule.name,
    action: rule.action,
    message: rule.message || `${rule.name} ${ACTION_WORDS[rule.action]} ${statement.class} statements`,
    ...approversOf(rule),
  };
}

export function evaluateRules(c: Classification, rules: PolicyRule[], ctx: RuleContext): PolicyDecision {
  if (c.error || c.class === "unparseable" || c.statements.length === 0) {
    // Fail closed: no rule can let through what the parser could not read.
    const message = c.error?.message ?? c.statements.find((s) => s.class === "unparseable")?.reasons[0];
    const statements = c.statements.length > 0 ? c.statements : [undefined];
    return {
      decision: "deny",
      class: "unparseable",
      reasons: statements.map((statement, i) => ({
        statementIndex: statement?.index ?? i,
        statement: statement?.text ?? "",
        class: "unparseable",
        ruleId: null,
        ruleName: "parser",
        action: "deny",
        message: message ?? "the input could not be parsed",
      })),
    };
  }
  const reasons = c.statements.map((statement) => decideStatement(statement, rules, ctx));
  return { decision: strictest(reasons.map((r) => r.action)), class: c.class, reasons };
}
