// Public surface of discovered classifications: sensitive columns found by sampling the target and by
// learning from masked results, decided by an admin, applied as column rules.
import "server-only";

export { learnFromResults } from "./learn";
export {
  type ClassificationDecision,
  type ClassificationSettingsInput,
  classificationDecisionSchema,
  classificationSettingsSchema,
} from "./schema";
export {
  type ClassificationOverview,
  type ClassificationView,
  classifiedColumnRules,
  decideClassification,
  getClassificationOverview,
  type ScanView,
  scanDueConnections,
  setClassificationSettings,
  settleClassification,
  startClassificationScans,
  startScan,
} from "./service";
