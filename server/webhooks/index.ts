/**
 * Webhooks: the endpoints admins register (registry.ts), the signed, retried delivery of every event owed to
 * them (delivery.ts, signing.ts), and what a review's event says (payloads.ts).
 */
import "server-only";

export {
  configureWebhookDelivery,
  type DeliveryView,
  kickWebhookDelivery,
  listWebhookDeliveries,
  notifyReviewEvent,
  notifyWebhookEvent,
  retryDelivery,
  sendTestEvent,
  settleWebhookDeliveries,
  startWebhookDelivery,
} from "./delivery";
export { type ReviewPayload, reviewPayload, slackMessage } from "./payloads";
export {
  AUDIT_EVENTS,
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
  webhooksFor,
} from "./registry";
export { DELIVERY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from "./signing";
