/**
 * Delivers webhook events (reviews, campaigns, audit checkpoints) to the endpoints that subscribe to them, as a
 * JSON payload or a Slack-compatible message, signed (signing.ts). Each event owed to an endpoint is a row in
 * `webhook_deliveries`, written when the event happens and sent in the background with exponential backoff,
 * so the request that caused it never waits, and a restart (or another replica) picks up what was not sent.
 * Delivery is at least once. Not responsible for which endpoints exist (registry.ts), what a review's payload
 * says (payloads.ts) or how a body is signed (signing.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { type Review, type WebhookDelivery, webhookDeliveries } from "@/db/schema";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { getSettings } from "@/server/config";
import { notFound } from "@/server/errors";
import { processSingleton } from "@/server/singleton";
import { reviewPayload, slackMessage } from "./payloads";
import {
  getWebhook,
  originOf,
  type ReviewEvent,
  type WebhookEvent,
  webhooksFor,
  webhookTarget,
} from "./registry";
import { DELIVERY_HEADER, SIGNATURE_HEADER, signBody, TIMESTAMP_HEADER } from "./signing";

interface DeliverySettings {
  attempts: number;
  /** delay before the second attempt; doubles each time (1s, 2s, 4s, 8s by default) */
  baseDelayMs: number;
  timeoutMs: number;
  /** how often a console looks for deliveries that are due (its own retries wake it sooner) */
  pollMs: number;
}

const settings = processSingleton<DeliverySettings>("webhookDeliverySettings", () => ({
  ...getSettings().webhooks,
}));

/** Deliveries sent at once by one console. */
const CONCURRENCY = 4;
/** Delivered and failed deliveries are kept this long for the admin's view, then deleted. */
const KEEP_FINISHED_MS = 7 * 24 * 3600_000;

/** Tunes retries (tests use a short base delay). */
export function configureWebhookDelivery(next: Partial<DeliverySettings>) {
  Object.assign(settings, next);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether another attempt could help: network errors, timeouts, 408, 429 and 5xx. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

type Outcome = { ok: true } | { ok: false; retry: boolean; problem: string };

/** A network error's message and code, never the URL (a Slack URL's path is its token). */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return "the request failed";
  if (err.name === "TimeoutError") return "timed out";
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === "string" ? `${err.message} (${cause.code})` : err.message;
}

async function attempt(delivery: WebhookDelivery): Promise<Outcome> {
  const target = await webhookTarget(delivery.webhookId);
  if (!target) return { ok: false, retry: false, problem: "the endpoint was removed" };
  if (!target.enabled) return { ok: false, retry: false, problem: "the endpoint is disabled" };
  const timestamp = String(Math.floor(Date.now() / 1000));
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "Portcullis-Webhook/1",
        [SIGNATURE_HEADER]: signBody(target.secret, timestamp, delivery.body),
        [TIMESTAMP_HEADER]: timestamp,
        [DELIVERY_HEADER]: delivery.id,
      },
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    return { ok: false, retry: isRetryable(response.status), problem: `HTTP ${response.status}` };
  } catch (err) {
    return { ok: false, retry: true, problem: describeError(err) };
  }
}

/**
 * Takes one due delivery for this console: its next attempt is pushed past the attempt's timeout, so no other
 * replica takes it meanwhile, and one that dies mid-attempt leaves it to be tried again. Skip locked: replicas
 * claiming at once take different rows.
 */
async function claimDue(): Promise<WebhookDelivery | undefined> {
  const db = await getDb();
  const leaseMs = settings.timeoutMs + 30_000;
  const [delivery] = await db
    .update(webhookDeliveries)
    .set({
      nextAttemptAt: sql`now() + ${`${leaseMs} milliseconds`}::interval`,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
    })
    .where(
      eq(
        webhookDeliveries.id,
        sql`(select id from ${webhookDeliveries}
          where state = 'pending' and next_attempt_at <= now()
          order by next_attempt_at
          limit 1
          for update skip locked)`,
      ),
    )
    .returning();
  return delivery;
}

async function settle(delivery: WebhookDelivery, outcome: Outcome): Promise<number | undefined> {
  const db = await getDb();
  if (outcome.ok) {
    await db
      .update(webhookDeliveries)
      .set({ state: "delivered", deliveredAt: new Date(), lastError: null })
      .where(eq(webhookDeliveries.id, delivery.id));
    return undefined;
  }
  if (!outcome.retry || delivery.attempts >= settings.attempts) {
    await db
      .update(webhookDeliveries)
      .set({ state: "failed", lastError: outcome.problem })
      .where(eq(webhookDeliveries.id, delivery.id));
    console.warn(
      `[portcullis] webhook ${delivery.webhookId}: ${delivery.event} not delivered after ${delivery.attempts} ` +
        `attempt(s) (${outcome.problem})`,
    );
    return undefined;
  }
  const delay = settings.baseDelayMs * 2 ** (delivery.attempts - 1);
  await db
    .update(webhookDeliveries)
    .set({ lastError: outcome.problem, nextAttemptAt: new Date(Date.now() + delay) })
    .where(eq(webhookDeliveries.id, delivery.id));
  return delay;
}

/** The sender of this console: sends what is due, then sleeps until its next retry or the next poll. */
class Dispatcher {
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private polling: NodeJS.Timeout | undefined;
  private lastCleanup = 0;

  /** Sends due deliveries until none are left; resolves when this console has nothing in flight. */
  pump(): Promise<void> {
    this.pumping ??= this.drain().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async drain(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      while (inFlight.size < CONCURRENCY) {
        const delivery = await claimDue();
        if (!delivery) break;
        const task = this.send(delivery).finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    await this.cleanup();
  }

  private async send(delivery: WebhookDelivery): Promise<void> {
    try {
      const retryIn = await settle(delivery, await attempt(delivery));
      if (retryIn !== undefined) this.wakeIn(retryIn);
    } catch (err) {
      console.error("[portcullis] webhook delivery failed:", err instanceof Error ? err.message : err);
    }
  }

  /** Wakes the sender in `ms` (or sooner, if it is already to wake sooner). */
  wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.timer && this.wakeAt <= at) return;
    clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.kick();
    }, ms + 5);
    this.timer.unref();
  }

  kick(): void {
    this.pump().catch((err) => console.error("[portcullis] webhook delivery failed:", err));
  }

  /** Deletes finished deliveries past their keeping time, at most hourly. */
  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 3600_000) return;
    this.lastCleanup = Date.now();
    const db = await getDb();
    await db.execute(sql`
      delete from ${webhookDeliveries}
      where state <> 'pending' and created_at < ${new Date(Date.now() - KEEP_FINISHED_MS).toISOString()}::timestamptz`);
  }

  start(): void {
    if (this.polling) return;
    this.polling = setInterval(() => this.kick(), settings.pollMs);
    this.polling.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.polling);
    this.polling = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pumping;
  }
}

const dispatcher = processSingleton("webhookDispatcher", () => new Dispatcher());

/** Starts sending deliveries (those left by an earlier run first); returns the stop function. */
export function startWebhookDelivery(): () => Promise<void> {
  dispatcher.start();
  return () => dispatcher.stop();
}

/** Sends deliveries another module wrote itself (the audit stream's, server/audit/forward.ts) now. */
export function kickWebhookDelivery(): void {
  dispatcher.kick();
}

/** Enqueues writes not yet in the store, so settle() can wait for them too. */
const enqueueing = processSingleton("webhookEnqueueing", () => new Set<Promise<void>>());

/**
 * Resolves when no delivery is pending: every one sent, or given up. Waits through scheduled retries (tests; a
 * console stopping).
 */
export async function settleWebhookDeliveries(): Promise<void> {
  for (;;) {
    while (enqueueing.size > 0) await Promise.allSettled([...enqueueing]);
    await dispatcher.pump();
    const db = await getDb();
    const [next] = await db
      .select({ at: webhookDeliveries.nextAttemptAt })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.state, "pending"))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(1);
    if (!next) return;
    await sleep(Math.max(5, next.at.getTime() - Date.now() + 5));
  }
}

/**
 * Owes an event to every subscribed endpoint: one delivery row each, written now (in the background: never
 * throws, never makes the caller wait), then sent. `slack` builds the Slack-format message, only when an
 * endpoint wants one.
 */
export function notifyWebhookEvent(event: WebhookEvent, payload: unknown, slack: () => unknown): void {
  enqueueEvent(event, async () => ({ payload, slack }));
}

/** Writes the deliveries of one event, its payload built in the background (settle() waits for it too). */
function enqueueEvent(
  event: WebhookEvent,
  build: () => Promise<{ payload: unknown; slack: () => unknown }>,
): void {
  const task = (async () => {
    const targets = await webhooksFor(event);
    if (targets.length === 0) return;
    const { payload, slack } = await build();
    const jsonBody = JSON.stringify(payload);
    const slackBody = targets.some((t) => t.format === "slack") ? JSON.stringify(slack()) : "";
    const db = await getDb();
    await db.insert(webhookDeliveries).values(
      targets.map((t) => ({
        id: randomUUID(),
        webhookId: t.id,
        event,
        body: t.format === "slack" ? slackBody : jsonBody,
      })),
    );
    dispatcher.kick();
  })()
    .catch((err) => console.error("[portcullis] webhook event not recorded:", err))
    .finally(() => enqueueing.delete(task));
  enqueueing.add(task);
}

/**
 * Sends one endpoint a test message now (whatever events it hears about), so an admin can see a receiver
 * accept it: the same signing and delivery as any event. Returns the delivery's id.
 */
export async function sendTestEvent(actor: { id: string | null; label: string }, webhookId: string) {
  const endpoint = await getWebhook(webhookId);
  const db = await getDb();
  const sentAt = new Date().toISOString();
  const body =
    endpoint.format === "slack"
      ? { text: `Test message from Portcullis, sent by ${actor.label}` }
      : { event: "webhook.test", sentAt, by: actor.label };
  const id = randomUUID();
  await db
    .insert(webhookDeliveries)
    .values({ id, webhookId, event: "webhook.test", body: JSON.stringify(body) });
  await recordAuditEvent(actor, "webhook.test", originOf(endpoint.url), { webhookId, deliveryId: id });
  dispatcher.kick();
  return { id };
}

/**
 * Sends a delivery that gave up again from the start (its attempts counted anew), once the endpoint is fixed.
 * Only failed deliveries of this endpoint; audited.
 */
export async function retryDelivery(
  actor: { id: string | null; label: string },
  webhookId: string,
  id: string,
) {
  const db = await getDb();
  const [row] = await db
    .update(webhookDeliveries)
    .set({ state: "pending", attempts: 0, nextAttemptAt: new Date() })
    .where(
      and(
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.webhookId, webhookId),
        eq(webhookDeliveries.state, "failed"),
      ),
    )
    .returning({ id: webhookDeliveries.id, event: webhookDeliveries.event });
  if (!row) throw notFound("no failed delivery with that id on this webhook");
  await recordAuditEvent(actor, "webhook.retry", webhookId, { deliveryId: id, event: row.event });
  dispatcher.kick();
  return { id };
}

export interface DeliveryView {
  id: string;
  event: string;
  state: WebhookDelivery["state"];
  attempts: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

/** An endpoint's recent deliveries, newest first (the body is not shown: it is what the endpoint received). */
export async function listWebhookDeliveries(webhookId: string, limit = 50): Promise<DeliveryView[]> {
  await getWebhook(webhookId);
  const db = await getDb();
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
  return rows.map((r) => ({
    id: r.id,
    event: r.event,
    state: r.state,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: r.createdAt.toISOString(),
    nextAttemptAt: r.state === "pending" ? r.nextAttemptAt.toISOString() : null,
    deliveredAt: r.deliveredAt?.toISOString() ?? null,
  }));
}

export function notifyReviewEvent(event: ReviewEvent, review: Review): void {
  enqueueEvent(event, async () => {
    const payload = await reviewPayload(event, review);
    return { payload, slack: () => slackMessage(payload) };
  });
}
