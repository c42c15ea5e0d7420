/**
 * The audit stream pushed to webhook endpoints subscribed to `audit.event`: every couple of seconds each such
 * endpoint is owed the lines past its own cursor, in batches, as durable signed deliveries (server/approvals
 * notify.ts sends and retries them). The cursor moves in the same statement that writes the delivery, so a
 * batch is owed exactly once even with several replicas forwarding. An endpoint starts at the stream's end when
 * it is first seen (the pull endpoint has the history). The webhooks are handed in at start-up, as for
 * checkpoint.ts: they record audit events themselves, so importing them here would be a cycle.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { eq, max, sql } from "drizzle-orm";
import { auditEvents, auditStreamCursors, sessionEvents, webhookDeliveries } from "@/db/schema";
import { getDb } from "@/db/store";
import { readAuditStream, type StreamCursor, type StreamLine, streamCursorText } from "./stream";

/** What forwarding needs of the webhooks (server/webhooks: webhooksFor, kickWebhookDelivery). */
export interface AuditWebhooks {
  /** the endpoints subscribed to an event, with the format each wants */
  subscribersOf(event: "audit.event"): Promise<{ id: string; format: "json" | "slack" }[]>;
  /** deliveries were written: send them now rather than at the next poll */
  kick(): void;
}

/** Lines in one delivery at most. */
export const AUDIT_BATCH_LINES = 100;
const FORWARD_EVERY_MS = 2000;

function slackText(lines: StreamLine[]): string {
  return lines
    .map((l) =>
      l.type === "audit"
        ? `${l.actor.label} ${l.action} ${l.target}`
        : `${l.session.who.label} on ${l.session.connection}: ${l.type} ${String(l.decision ?? l.status ?? "")}`,
    )
    .join("\n");
}

async function streamEnd(): Promise<StreamCursor> {
  const db = await getDb();
  const [[a], [s]] = await Promise.all([
    db.select({ seq: max(auditEvents.seq) }).from(auditEvents),
    db.select({ id: max(sessionEvents.id) }).from(sessionEvents),
  ]);
  return { auditSeq: Number(a?.seq ?? 0), sessionEventId: Number(s?.id ?? 0) };
}

/** One pass: every subscribed endpoint is owed what it has not been yet. Returns the lines owed. */
export async function forwardAuditStream(webhooks: AuditWebhooks, now = Date.now()): Promise<number> {
  const db = await getDb();
  let owed = 0;
  for (const target of await webhooks.subscribersOf("audit.event")) {
    const [row] = await db
      .select()
      .from(auditStreamCursors)
      .where(eq(auditStreamCursors.webhookId, target.id));
    if (!row) {
      await db
        .insert(auditStreamCursors)
        .values({ webhookId: target.id, ...(await streamEnd()) })
        .onConflictDoNothing();
      continue;
    }
    let cursor: StreamCursor = { auditSeq: row.auditSeq, sessionEventId: row.sessionEventId };
    for (;;) {
      const { lines, next } = await readAuditStream(cursor, AUDIT_BATCH_LINES, now);
      if (lines.length === 0) break;
      const body = JSON.stringify(
        target.format === "slack"
          ? { text: slackText(lines) }
          : { event: "audit.event", cursor: streamCursorText(next), lines },
      );
      // Moves the cursor only from where this pass read it, and owes the batch in the same statement.
      const moved = await db.execute(sql`
        with moved as (
          update ${auditStreamCursors}
          set audit_seq = ${next.auditSeq}, session_event_id = ${next.sessionEventId}, updated_at = now()
          where webhook_id = ${target.id} and audit_seq = ${cursor.auditSeq}
            and session_event_id = ${cursor.sessionEventId}
          returning webhook_id
        )
        insert into ${webhookDeliveries} (id, webhook_id, event, body)
        select ${randomUUID()}, webhook_id, 'audit.event', ${body} from moved
        returning id`);
      if (rowCount(moved) === 0) break;
      owed += lines.length;
      cursor = next;
      if (lines.length < AUDIT_BATCH_LINES) break;
    }
  }
  if (owed > 0) webhooks.kick();
  return owed;
}

function rowCount(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const rows = (result as { rows?: unknown[] }).rows;
  return rows?.length ?? 0;
}

/** Forwards every couple of seconds; returns the stop function. */
export function startAuditForwarding(webhooks: AuditWebhooks): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() =>
      forwardAuditStream(webhooks).catch((err: unknown) => {
        console.error(
          "[portcullis] audit stream forwarding failed:",
          err instanceof Error ? err.message : err,
        );
      }),
    );
  }, FORWARD_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
