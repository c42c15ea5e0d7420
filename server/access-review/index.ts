/** Access reviews: the access matrix, the auditor's questions, and review campaigns whose revokes act at once. */
import "server-only";

export {
  type AccessPath,
  describePath,
  isUnusedAccess,
  type MatrixRow,
  matrixToCsv,
  revokeConsequence,
} from "./evidence";
export { type MatrixPage, queryMatrix, refreshTouches } from "./matrix";
export type { QuestionAnswer } from "./questions";
export {
  bulkDecideSchema,
  createCampaignSchema,
  decideItemSchema,
  type MatrixFilters,
  matrixFiltersSchema,
  questionSchema,
  setOwnerSchema,
} from "./schema";
export {
  askQuestion,
  bulkDecide,
  type CampaignSummary,
  type CampaignView,
  campaignReport,
  closeCampaign,
  connectionOwnerGroupId,
  createCampaign,
  decideItem,
  type EvidenceReport,
  exportAccessMatrixCsv,
  getAccessMatrix,
  getCampaign,
  getMatrixFilterOptions,
  type ItemView,
  liftRevocation,
  listCampaigns,
  listRevocations,
  remindCampaign,
  sendDueReminders,
  setConnectionOwner,
  startCampaignReminders,
} from "./service";
