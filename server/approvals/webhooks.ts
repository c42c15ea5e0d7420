/**
 * Webhook endpoints that hear about reviews: admin CRUD, with each endpoint's signing secret sealed under
 * MASTER_KEY like connection credentials and never returned after creation. Endpoints live in a process-wide
 * registry until the `webhooks` table exists (see the report for its definition); the functions here are the
 * only ones that touch it. Not responsible for delivery (see notify.ts).
 */
import "server-only";
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { recordAuditEvent } from "@/server/audit";
import { getConfig } from "@/server/config";
import { openSecret, sealSecret } from "@/server/connections/vault";
import { notFound } from "@/server/errors";
import { processSingleton } from "@/server/singleton";

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

const urlSchema = z
  .string()
  .trim()
  .url()
  .max(2000)
  .refine((u) => /^https?:\/\//i.test(u), "the URL must start with http:// or https://");

export const createWebhookSchema = z.object({
  url: urlSchema,
  /** omitted: the gateway generates one and returns it once */
  secret: z.string().min(16).max(200).optional(),
  events: z
    .array(z.enum(REVIEW_EVENTS))
    .min(1)
    .default([...REVIEW_EVENTS]),
  format: z.enum(["json", "slack"]).default("json"),
  enabled: z.boolean().default(true),
});
export type CreateWebhookInput = z.input<typeof createWebhookSchema>;

export const updateWebhookSchema = z.object({
  url: urlSchema.optional(),
  secret: z.string().min(16).max(200).optional(),
  events: z.array(z.enum(REVIEW_EVENTS)).min(1).optional(),
  format: z.enum(["json", "slack"]).optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookInput = z.input<typeof updateWebhookSchema>;

/** A stored endpoint, shaped like the future `webhooks` row. */
interface WebhookRow {
  id: string;
  url: string;
  /** sealed { password: <signing secret> }, the webhook id bound as associated data */
  secret: string;
  events: ReviewEvent[];
  format: "json" | "slack";
  enabled: boolean;
  createdAt: Date;
}

export interface WebhookView {
  id: string;
  url: string;
  events: ReviewEvent[];
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

const registry = processSingleton("webhookRegistry", () => new Map<string, WebhookRow>());

type Actor = { id: string | null; label: string };

function toView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
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
function originOf(url: string): string {
  return new URL(url).origin;
}

export async function listWebhooks(): Promise<WebhookView[]> {
  return [...registry.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(toView);
}

/** Creates an endpoint; the secret is in the reply this once. */
export async function createWebhook(actor: Actor, input: CreateWebhookInput) {
  const data = createWebhookSchema.parse(input);
  const id = randomUUID();
  const secret = data.secret ?? randomBytes(32).toString("base64url");
  registry.set(id, {
    id,
    url: data.url,
    secret: seal(id, secret),
    events: [...new Set(data.events)],
    format: data.format,
    enabled: data.enabled,
    createdAt: new Date(),
  });
  await recordAuditEvent(actor, "webhook.create", originOf(data.url), { webhookId: id, events: data.events });
  const row = registry.get(id);
  if (!row) throw notFound("no such webhook");
  return { webhook: toView(row), secret };
}

export async function updateWebhook(actor: Actor, id: string, input: UpdateWebhookInput) {
  const data = updateWebhookSchema.parse(input);
  const row = registry.get(id);
  if (!row) throw notFound("no such webhook");
  const next: WebhookRow = {
    ...row,
    ...(data.url !== undefined && { url: data.url }),
    ...(data.secret !== undefined && { secret: seal(id, data.secret) }),
    ...(data.events !== undefined && { events: [...new Set(data.events)] }),
    ...(data.format !== undefined && { format: data.format }),
    ...(data.enabled !== undefined && { enabled: data.enabled }),
  };
  registry.set(id, next);
  await recordAuditEvent(actor, "webhook.update", originOf(next.url), {
    webhookId: id,
    fields: Object.keys(data),
  });
  return toView(next);
}

export async function deleteWebhook(actor: Actor, id: string) {
  const row = registry.get(id);
  if (!row) throw notFound("no such webhook");
  registry.delete(id);
  await recordAuditEvent(actor, "webhook.delete", originOf(row.url), { webhookId: id });
}

/** Enabled endpoints subscribed to an event, with their secrets opened for signing. */
export async function webhookTargetsFor(event: ReviewEvent): Promise<WebhookTarget[]> {
  const key = getConfig().masterKey;
  return [...registry.values()]
    .filter((row) => row.enabled && row.events.includes(event))
    .map((row) => ({
      id: row.id,
      url: row.url,
      format: row.format,
      secret: openSecret(row.secret, key, `webhook:${row.id}`).password ?? "",
    }));
}
