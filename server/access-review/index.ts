/** Access reviews: the access matrix, the auditor's questions, and review campaigns whose revokes act at once. */
import "server-only";

export {
  type CampaignSummary,
  type CampaignView,
  campaignReport,
  closeCampaign,
  createCampaign,
  type EvidenceReport,
  getCampaign,
  type ItemView,
  listCampaigns,
  remindCampaign,
} from "./campaigns";
export { bulkDecide, decideItem } from "./decisions";
export {
  type AccessPath,
  describePath,
  isUnusedAccess,
  type MatrixRow,
  matrixToCsv,
  revokeConsequence,
} from "./evidence";
export { type MatrixPage, queryMatrix, refreshTouches } from "./matrix";
export {
  askQuestion,
  exportAccessMatrixCsv,
  getAccessMatrix,
  getMatrixFilterOptions,
} from "./matrix-service";
export { connectionOwnerGroupId, setConnectionOwner } from "./owners";
export type { QuestionAnswer } from "./questions";
export { sendDueReminders, startCampaignReminders } from "./reminders";
export { liftRevocation, listRevocations } from "./revocations";
export {
  bulkDecideSchema,
  createCampaignSchema,
  decideItemSchema,
  type MatrixFilters,
  matrixFiltersSchema,
  questionSchema,
  setOwnerSchema,
} from "./schema";
