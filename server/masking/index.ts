// Public surface of the masking stage: detect sensitive values in free text, cells, JSON and terminal
// streams and replace them before anything reaches the screen, the API, a log or a recording.
import "server-only";

export { DEFAULT_COLUMN_RULES } from "./column-rules";
export { defaultMaskingConfig } from "./config";
export { DETECTOR_INFO, DETECTOR_TYPES } from "./detectors";
export {
  type ColumnLineage,
  derivePlanColumns,
  type IndexInfo,
  type LineageCatalog,
  lineageFromPlan,
  type MaskedPredicate,
  type PlanNode,
  planReferences,
  type RelationInfo,
  type StatementLineage,
  UNTRACED_TYPE,
  untracedLineage,
} from "./lineage";
export { maskRows, maskValue } from "./mask-rows";
export { type MaskTextOptions, maskText } from "./mask-text";
export { BatchMasker, closeMaskWorkers, warmMaskWorkers } from "./pool";
export { columnRuleSchema, maskingConfigSchema } from "./schema";
export { maskStatementLiterals, WITHHELD_STATEMENT } from "./statement-literals";
export { createStreamMasker } from "./stream-masker";
export { maskTargetError, quotesFailingRow, VALUE_LABEL } from "./target-error";
export type {
  ColumnRef,
  ColumnRule,
  DetectorCategory,
  DetectorInfo,
  Finding,
  MaskedCell,
  MaskingConfig,
  MaskRowsResult,
  MaskStyle,
  MaskTextResult,
  MaskValueResult,
  StreamMasker,
  StreamMaskerOptions,
} from "./types";
