/**
 * Webhook endpoints and the events they can hear about (reviews, campaigns, audit checkpoints): admin CRUD, with each endpoint's signing secret sealed under
 * MASTER_KEY like connection credentials (associated data `webhook:<id>`) and never returned after creation.
 * Endpoints live in the `webhooks` table; the functions here are the only ones that touch it. Not responsible
 * for delivery (see delivery.ts).
 */
import "server-only";
import { randomBytes, randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { type Webhook, webhooks } from "@/db/schema";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { getConfig } from "@/server/config";
import { notFound } from "@/server/errors";
import { openSecret, sealSecret } from "@/server/vault";

export const REVIEW_EVENTS = [
  "review.created",
  "review.approved",
  "review.denied",
  "review.executed",
  "review.failed",
  "review.expired",
  "review.cancelled",
] as const;
export type ReviewEvent = (typeof REVIEW_EVENTS)[number];

/** Access review campaigns (server/access-review) announce themselves through the same endpoints. */
export const CAMPAIGN_EVENTS = ["campaign.started", "campaign.reminder", "campaign.closed"] as const;
export type CampaignEvent = (typeof CAMPAIGN_EVENTS)[number];

/**
 * The audit log's chain head, sent out so that it is kept outside the store (server/audit/checkpoint.ts), and
 * the audit stream itself, in batches of lines (server/audit/forward.ts).
 */
export const AUDIT_EVENTS = ["audit.checkpoint", "audit.event"] as const;

export const WEBHOOK_EVENTS = [...REVIEW_EVENTS, ...CAMPAIGN_EVENTS, ...AUDIT_EVENTS] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const urlSchema = z
  .string()
  .trim()
  .url()
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), "the URL must start with http:// or https://");

export const createWebhookSchema = z.strictObject({
  url: urlSchema,
  /** omitted: the gateway generates one and returns it once */
  secret: z.string().min(16).max(200).optional(),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .default([...REVIEW_EVENTS]),
  format: z.enum(["json", "slack"]).default("json"),
  enabled: z.boolean().default(true),
});
export type CreateWebhookInput = z.input<typeof createWebhookSchema>;

export const updateWebhookSchema = z.strictObject({
  url: urlSchema.optional(),
  secret: z.string().min(16).max(200).optional(),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
  format: z.enum(["json", "slack"]).optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookInput = z.input<typeof updateWebhookSchema>;

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEvent[];
  format: "json" | "slack";
  enabled: boolean;
  createdAt: string;
  /** credentials are write-only, as for connections */
  hasSecret: true;
}

/** An endpoint ready for delivery, with its secret opened; never leaves the server. */
export interface WebhookTarget {
  id: string;
  url: string;
  format: "json" | "slack";
  secret: string;
}

type Actor = { id: string | null; label: string };

function eventsOf(row: Webhook): WebhookEvent[] {
  return row.events.filter((e): e is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(e));
}

function toView(row: Webhook): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: eventsOf(row),
    format: row.format,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
    hasSecret: true,
  };
}

function seal(id: string, secret: string): string {
  return sealSecret({ password: secret }, getConfig().masterKey, `webhook:${id}`);
}

/** Only the origin is audited: a URL's path or query can carry a token (Slack incoming webhooks do). */
export function originOf(url: string): string {
  return new URL(url).origin;
}

export async function listWebhooks(): Promise<WebhookView[]> {
  const db = await getDb();
  const rows = await db.select().from(webhooks).orderBy(asc(webhooks.createdAt), asc(webhooks.id));
  return rows.map(toView);
}

/** Creates an endpoint; the secret is in the reply this once. */
export async function createWebhook(actor: Actor, input: CreateWebhookInput) {
  const data = createWebhookSchema.parse(input);
  const id = randomUUID();
  const secret = data.secret ?? randomBytes(32).toString("base64url");
  const db = await getDb();
  const [row] = await db
    .insert(webhooks)
    .values({
      id,
      url: data.url,
      secret: seal(id, secret),
      events: [...new Set(data.events)],
      format: data.format,
      enabled: data.enabled,
    })
    .returning();
  if (!row) throw notFound("no such webhook");
  await recordAuditEvent(actor, "webhook.create", originOf(data.url), { webhookId: id, events: data.events });
  return { webhook: toView(row), secret };
}

export async function updateWebhook(actor: Actor, id: string, input: UpdateWebhookInput) {
  const data = updateWebhookSchema.parse(input);
  const db = await getDb();
  const [row] = await db
    .update(webhooks)
    .set({
      ...(data.url !== undefined && { url: data.url }),
      ...(data.secret !== undefined && { secret: seal(id, data.secret) }),
      ...(data.events !== undefined && { events: [...new Set(data.events)] }),
      ...(data.format !== undefined && { format: data.format }),
      ...(data.enabled !== undefined && { enabled: data.enabled }),
      id,
    })
    .where(eq(webhooks.id, id))
    .returning();
  if (!row) throw notFound("no such webhook");
  await recordAuditEvent(actor, "webhook.update", originOf(row.url), {
    webhookId: id,
    fields: Object.keys(data),
  });
  return toView(row);
}

export async function deleteWebhook(actor: Actor, id: string) {
  const db = await getDb();
  const [row] = await db.delete(webhooks).where(eq(webhooks.id, id)).returning();
  if (!row) throw notFound("no such webhook");
  await recordAuditEvent(actor, "webhook.delete", originOf(row.url), { webhookId: id });
}

/** Enabled endpoints subscribed to an event (what a delivery is owed to). */
export async function webhooksFor(event: WebhookEvent): Promise<{ id: string; format: "json" | "slack" }[]> {
  const db = await getDb();
  const rows = await db.select().from(webhooks).where(eq(webhooks.enabled, true));
  return rows
    .filter((row) => eventsOf(row).includes(event))
    .map((row) => ({ id: row.id, format: row.format }));
}

/** An endpoint's view (no secret); a 404 when there is none. */
export async function getWebhook(id: string): Promise<WebhookView> {
  const db = await getDb();
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) throw notFound("no such webhook");
  return toView(row);
}

/** One endpoint ready for delivery, its secret opened; undefined when it is gone. */
export async function webhookTarget(id: string): Promise<(WebhookTarget & { enabled: boolean }) | undefined> {
  const db = await getDb();
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  if (!row) return undefined;
  return {
    id: row.id,
    url: row.url,
    format: row.format,
    enabled: row.enabled,
    secret: openSecret(row.secret, getConfig().masterKey, `webhook:${row.id}`).password ?? "",
  };
}
