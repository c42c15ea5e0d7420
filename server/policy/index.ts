import "server-only";

// Public surface of the policy stage: classify SQL with the real parser and the target's catalog, read terminal
// command lines, and decide both by rules: one glob matcher (glob.ts), one rules store (rules-store.ts), one
// evaluation order (evaluation-order.ts).

export { type BuiltinCatalog, readBuiltinCatalog, renderBuiltinCatalog } from "./builtin-catalog";
export { SAFE_BUILTIN_FUNCTIONS } from "./builtin-functions.generated";
export { type CatalogQuery, catalogFor, forgetCatalog, type TargetCatalog } from "./catalog";
export { classifiedAsWrite, classifySql, classifyStats } from "./classify-statement";
export { isIncompleteLine, type ParsedCommand, parseCommandLine } from "./command-line";
export {
  type CommandContext,
  type CommandDecision,
  type CommandReason,
  type CommandRule,
  defaultCommandRules,
  evaluateCommandLine,
} from "./evaluate-commands";
export { defaultRules, evaluateRules } from "./evaluate-rules";
export type { RuleScope, ScopedRule } from "./evaluation-order";
export { parseStats, trimSqlWhitespace } from "./parser";
export {
  approverFields,
  type CommandRuleInput,
  commandRuleInputSchema,
  type RuleInput,
  ruleInputSchema,
} from "./rule-schema";
export {
  type CommandRuleView,
  createCommandRule,
  createRule,
  deleteCommandRule,
  deleteRule,
  listCommandRules,
  listRules,
  loadCommandRules,
  loadRules,
  type RuleView,
  updateCommandRule,
  updateRule,
} from "./rules-store";
export {
  CLASS_SEVERITY,
  type Classification,
  type ClassificationError,
  type ClassifiedStatement,
  DECISION_SEVERITY,
  type Decision,
  type DecisionReason,
  type PolicyDecision,
  type PolicyRule,
  type RuleContext,
  STATEMENT_CLASSES,
  type StatementClass,
} from "./types";
