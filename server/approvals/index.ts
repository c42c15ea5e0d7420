/**
 * Approvals: reviews (held inputs, their decisions, and running what was approved through the runner its
 * channel registered), time-boxed grants, webhooks and the "reviews changed" signal. Only re-exports.
 */
import "server-only";

export { type ApprovalSettings, approversFor } from "./approvers";
export {
  decideGrant,
  type GrantView,
  listGrantableConnections,
  listGrants,
  type RequestGrantInput,
  requestGrant,
  requestGrantSchema,
  revokeGrant,
} from "./grants";
export {
  configureWebhookDelivery,
  DELIVERY_HEADER,
  type DeliveryView,
  listWebhookDeliveries,
  notifyWebhookEvent,
  retryDelivery,
  reviewPayload,
  SIGNATURE_HEADER,
  sendTestEvent,
  settleWebhookDeliveries,
  signBody,
  startWebhookDelivery,
  TIMESTAMP_HEADER,
} from "./notify";
export {
  cancelReview,
  countInbox,
  createReview,
  decideReview,
  finishApprovedReview,
  getReview,
  hashInput,
  listReviews,
  REVIEW_TTL_MS,
  type Review,
  type ReviewRequest,
  type ReviewView,
  readReview,
} from "./reviews";
export { type ApprovedRunner, registerApprovedRunner } from "./runners";
export { parseReviewFilters, type ReviewFilters, reviewFiltersSchema } from "./schema";
export { reviewSignals, signalReviewsChanged, startReviewSignals, stopReviewSignals } from "./signals";
export {
  CAMPAIGN_EVENTS,
  type CampaignEvent,
  type CreateWebhookInput,
  createWebhook,
  createWebhookSchema,
  deleteWebhook,
  listWebhooks,
  REVIEW_EVENTS,
  type ReviewEvent,
  type UpdateWebhookInput,
  updateWebhook,
  updateWebhookSchema,
  WEBHOOK_EVENTS,
  type WebhookEvent,
  type WebhookView,
} from "./webhooks";
