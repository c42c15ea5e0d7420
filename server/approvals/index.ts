/**
 * Approvals: reviews (held inputs, their decisions, and running what was approved through the runner its
 * channel registered), the "reviews changed" signal and the "review decided" one (grants and webhooks have their own folders). Only re-exports.
 */
import "server-only";

export { type ApprovalSettings, approvalSettings, approversFor } from "./approvers";
export {
  type DecidedState,
  parseDecidedPayload,
  REVIEW_DECIDED_CHANNEL,
  type ReviewDecided,
  signalReviewDecided,
  watchReviewDecisions,
} from "./decisions";
export {
  type ApprovedInput,
  cancelReview,
  claimApprovedReview,
  countInbox,
  createReview,
  decideReview,
  expireOverdueReviews,
  finishApprovedReview,
  getReview,
  hashInput,
  hashParameters,
  listReviews,
  REVIEW_TTL_MS,
  type Review,
  type ReviewRequest,
  type ReviewView,
  readReview,
  settleClaimedReview,
} from "./reviews";
export { type ApprovedRunner, registerApprovedRunner } from "./runners";
export { decisionSchema, parseReviewFilters, type ReviewFilters, reviewFiltersSchema } from "./schema";
export { reviewSignals, signalReviewsChanged, startReviewSignals, stopReviewSignals } from "./signals";
