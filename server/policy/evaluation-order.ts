/**
 * The one evaluation order of policy rules, for SQL statements (evaluate-rules.ts) and terminal command lines
 * (evaluate-commands.ts) alike:
 *   1. Input the gateway cannot read is refused, whatever the rules say (SQL the parser rejects).
 *   2. An input is split into its parts, each decided on its own: the statements of a SQL input, the commands
 *      of a command line (a regex rule is matched against the whole line).
 *   3. A rule applies to a part when its scope holds (connection: unset or the caller's; groups: unset or one
 *      in common with the caller's, `appliesToScope`) and its subject matches (SQL: class, tables, functions,
 *      masked columns; commands: the command pattern or the line regex). Names are matched by one glob
 *      matcher (glob.ts).
 *   4. Of the stored rules that apply, the most specific wins (`outranks`): each kind ranks its own dimensions
 *      as a tuple compared in order (SQL: dimensions set, then connection > groups > tables/functions >
 *      classes; commands: connection set, then groups set, then a longer command pattern); remaining ties go
 *      to the stricter action (deny > review > allow).
 *   5. No stored rule applies: the built-in defaults decide the same way. Not even they apply: the kind's
 *      fallback, deny for SQL (fail closed) and allow for a command (a terminal is an allow-by-default
 *      channel whose defaults refuse the known dangers).
 *   6. The input takes the strictest decision of its parts (`strictest`); a part held for review carries the
 *      deciding rule's approvers when it names them (`approversOf`).
 * Pure; no I/O. Not responsible for classifying SQL or reading command lines, nor for holding anything.
 */
import "server-only";
import { DECISION_SEVERITY, type Decision } from "./types";

/** What every kind of rule has: where it applies, what it decides, and who approves what it holds. */
export interface ScopedRule {
  /** null: every connection. */
  connectionId: string | null;
  /** Empty: every caller. */
  groups: string[];
  action: Decision;
  approverGroups?: string[];
  approvalsRequired?: number | null;
}

/** Who asks, where. */
export interface RuleScope {
  connectionId: string;
  groups: string[];
}

export function appliesToScope(rule: ScopedRule, scope: RuleScope): boolean {
  return (
    (rule.connectionId === null || rule.connectionId === scope.connectionId) &&
    (rule.groups.length === 0 || rule.groups.some((group) => scope.groups.includes(group)))
  );
}

/** Whether `a` wins over `b` (or there is no `b`): the greater specificity tuple, then the stricter action. */
export function outranks<R extends ScopedRule>(
  a: R,
  b: R | undefined,
  specificity: (rule: R) => readonly number[],
): boolean {
  if (!b) return true;
  const [sa, sb] = [specificity(a), specificity(b)];
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const diff = (sa[i] ?? 0) - (sb[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return DECISION_SEVERITY[a.action] > DECISION_SEVERITY[b.action];
}

/** The strictest of some decisions; allow when there are none. */
export function strictest(decisions: Iterable<Decision>): Decision {
  let result: Decision = "allow";
  for (const decision of decisions) {
    if (DECISION_SEVERITY[decision] > DECISION_SEVERITY[result]) result = decision;
  }
  return result;
}

/** A review rule's own approvers, when it names them; otherwise (and for other actions) the connection's apply. */
export function approversOf(rule: ScopedRule): { approverGroups?: string[]; approvalsRequired?: number } {
  if (rule.action !== "review") return {};
  return {
    ...(rule.approverGroups?.length && { approverGroups: rule.approverGroups }),
    ...(rule.approvalsRequired && { approvalsRequired: rule.approvalsRequired }),
  };
}
