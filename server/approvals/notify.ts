/**
 * Delivers review events to webhook endpoints: a JSON payload or a Slack-compatible message, signed with
 * HMAC-SHA256 over `<timestamp>.<raw body>` (`X-Portcullis-Signature: sha256=<hex>`, the Unix time in
 * `X-Portcullis-Timestamp`, so a receiver can refuse an old message replayed), retried
 * with exponential backoff in the background so the request that caused the event never waits for it.
 * Payloads carry what a reviewer sees in the inbox and never credentials. Not responsible for which endpoints
 * exist (see webhooks.ts).
 */
import "server-only";
import { createHmac } from "node:crypto";
import type { Review } from "@/db/schema";
import { processSingleton } from "@/server/singleton";
import { type ReviewEvent, type WebhookEvent, type WebhookTarget, webhookTargetsFor } from "./webhooks";

export const SIGNATURE_HEADER = "X-Portcullis-Signature";
export const TIMESTAMP_HEADER = "X-Portcullis-Timestamp";

interface DeliverySettings {
  attempts: number;
  /** delay before the second attempt; doubles each time (1s, 2s, 4s, 8s by default) */
  baseDelayMs: number;
  timeoutMs: number;
}

const settings = processSingleton<DeliverySettings>("webhookDeliverySettings", () => ({
  attempts: Number(process.env.WEBHOOK_ATTEMPTS ?? 5),
  baseDelayMs: Number(process.env.WEBHOOK_RETRY_BASE_MS ?? 1000),
  timeoutMs: Number(process.env.WEBHOOK_TIMEOUT_MS ?? 10_000),
}));

/** Deliveries in flight, so tests and shutdown can wait for them. */
const inFlight = processSingleton("webhookDeliveries", () => new Set<Promise<void>>());

/** Tunes retries (tests use a short base delay). */
export function configureWebhookDelivery(next: Partial<DeliverySettings>) {
  Object.assign(settings, next);
}

/** Resolves when every delivery started so far has succeeded or given up. */
export async function settleWebhookDeliveries(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

export interface ReviewPayload {
  event: ReviewEvent;
  review: {
    id: string;
    state: Review["state"];
    requester: string;
    connection: string;
    class: string;
    input: string;
    createdAt: string;
    decisions: { byLabel: string; at: string; decision: "approve" | "deny"; comment: string }[];
  };
}

/** Password literals in the statement itself (ALTER ROLE ... PASSWORD '...') are not sent anywhere. */
function redactInput(input: string): string {
  return input.replace(/\b(password)(\s+)'(?:[^']|'')*'/gi, "$1$2'[redacted]'");
}

export function reviewPayload(event: ReviewEvent, review: Review): ReviewPayload {
  return {
    event,
    review: {
      id: review.id,
      state: review.state,
      requester: review.requesterLabel,
      connection: review.connectionName,
      class: review.class,
      input: redactInput(review.input),
      createdAt: review.createdAt.toISOString(),
      decisions: review.decisions.map((d) => ({
        byLabel: d.byLabel,
        at: d.at,
        decision: d.decision,
        comment: d.comment,
      })),
    },
  };
}

const HEADLINES: Record<ReviewEvent, string> = {
  "review.created": "waits for approval",
  "review.approved": "was approved",
  "review.denied": "was denied",
  "review.executed": "was approved and ran",
  "review.failed": "was approved but failed",
  "review.expired": "expired without a decision",
  "review.cancelled": "was cancelled by the requester",
};

/** Slack's `mrkdwn` treats &, < and > as markup. */
function escapeSlack(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function slackMessage(payload: ReviewPayload) {
  const { review } = payload;
  const text = `${review.requester}'s ${review.class} request on ${review.connection} ${HEADLINES[payload.event]}`;
  const input = review.input.length > 2800 ? `${review.input.slice(0, 2800)}…` : review.input;
  const last = review.decisions.at(-1);
  return {
    text: escapeSlack(text),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${escapeSlack(text)}*` } },
      { type: "section", text: { type: "mrkdwn", text: `\`\`\`${escapeSlack(input)}\`\`\`` } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: escapeSlack(
              [
                `review ${review.id}`,
                `state ${review.state}`,
                last &&
                  `${last.decision === "approve" ? "approved" : "denied"} by ${last.byLabel}` +
                    (last.comment ? `: “${last.comment}”` : ""),
              ]
                .filter(Boolean)
                .join(" · "),
            ),
          },
        ],
      },
    ],
  };
}

/** The signature of one delivery: the timestamp is signed with the body, so neither can be swapped. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex")}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether another attempt could help: network errors, timeouts, 408, 429 and 5xx. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function deliver(target: WebhookTarget, body: string): Promise<void> {
  const { attempts, baseDelayMs, timeoutMs } = settings;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let problem: string;
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "Portcullis-Webhook/1",
          [SIGNATURE_HEADER]: signBody(target.secret, timestamp, body),
          [TIMESTAMP_HEADER]: timestamp,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return;
      problem = `HTTP ${response.status}`;
      if (!isRetryable(response.status)) {
        console.warn(`[portcullis] webhook ${target.id} refused the event (${problem}); not retrying`);
        return;
      }
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (attempt === attempts) {
      console.warn(`[portcullis] webhook ${target.id} gave up after ${attempts} attempts (${problem})`);
      return;
    }
    await sleep(baseDelayMs * 2 ** (attempt - 1));
  }
}

/**
 * Sends an event to every subscribed endpoint in the background; never throws, never waits for delivery.
 * `slack` builds the Slack-format message, only when an endpoint wants one.
 */
export function notifyWebhookEvent(event: WebhookEvent, payload: unknown, slack: () => unknown): void {
  const task = (async () => {
    const targets = await webhookTargetsFor(event);
    if (targets.length === 0) return;
    const jsonBody = JSON.stringify(payload);
    const slackBody = targets.some((t) => t.format === "slack") ? JSON.stringify(slack()) : "";
    await Promise.all(targets.map((t) => deliver(t, t.format === "slack" ? slackBody : jsonBody)));
  })()
    .catch((err) => console.error("[portcullis] webhook delivery failed:", err))
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
}

export function notifyReviewEvent(event: ReviewEvent, review: Review): void {
  const payload = reviewPayload(event, review);
  notifyWebhookEvent(event, payload, () => slackMessage(payload));
}
