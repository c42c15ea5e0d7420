import "server-only";

// Public surface of the policy stage: classify SQL with the real parser and the target's catalog, then decide
// by rules.

export { type BuiltinCatalog, readBuiltinCatalog, renderBuiltinCatalog } from "./builtin-catalog";
export { SAFE_BUILTIN_FUNCTIONS } from "./builtin-functions.generated";
export { type CatalogQuery, catalogFor, forgetCatalog, type TargetCatalog } from "./catalog";
export { classifiedAsWrite, classifySql } from "./classify-statement";
export { defaultRules, evaluateRules } from "./evaluate-rules";
export { trimSqlWhitespace } from "./parser";
export { approverFields, type RuleInput, ruleInputSchema } from "./rule-schema";
export { createRule, deleteRule, listRules, loadRules, type RuleView, updateRule } from "./rules-store";
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
