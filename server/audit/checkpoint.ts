/**
 * Audit checkpoints: the audit log's chain head (seq and hash) sent out to webhook endpoints subscribed to
 * `audit.checkpoint`, signed like every delivery, whenever it has moved since the last one (hourly by default,
 * AUDIT_CHECKPOINT_MINUTES; 0 turns it off). Someone who can write the store can rebuild the whole chain so that it
 * verifies; they cannot change the heads already delivered elsewhere, and `npm run admin -- verify audit
 * --checkpoint SEQ:HASH` checks the chain against them. Not responsible for sending: the webhooks' notifier is
 * handed in at start-up (webhooks write audit events, so importing them here would be a cycle).
 */
import "server-only";
import { getSettings } from "@/server/config";
import { auditChainHead, HASH_ALGORITHM } from "@/server/integrity";
import { processSingleton } from "@/server/singleton";

const state = processSingleton("auditCheckpoints", () => ({ lastSeq: 0 }));

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
}

/** How a checkpoint goes out: the webhooks' notifier (`notifyWebhookEvent`), wired at start-up. */
export type SendCheckpoint = (event: "audit.checkpoint", payload: unknown, slack: () => unknown) => void;

/** Sends the current head when it moved since the last one this process sent; returns it, or undefined. */
export async function sendAuditCheckpoint(send: SendCheckpoint): Promise<AuditCheckpoint | undefined> {
  const head = await auditChainHead();
  if (head.seq === 0 || head.seq <= state.lastSeq) return undefined;
  state.lastSeq = head.seq;
  const checkpoint = { seq: head.seq, hash: head.hash, at: new Date().toISOString() };
  send(
    "audit.checkpoint",
    { event: "audit.checkpoint", checkpoint: { ...checkpoint, algorithm: HASH_ALGORITHM } },
    () => ({ text: `Portcullis audit log checkpoint: event ${head.seq}, hash ${head.hash}` }),
  );
  return checkpoint;
}

/** Sends checkpoints every AUDIT_CHECKPOINT_MINUTES (60; 0: never), the first a minute after start. */
export function startAuditCheckpoints(send: SendCheckpoint): () => Promise<void> {
  const minutes = getSettings().auditCheckpointMinutes;
  if (minutes === undefined) return async () => {};
  const run = () => {
    sendAuditCheckpoint(send).catch((err: unknown) => {
      console.error("[portcullis] audit checkpoint failed:", err instanceof Error ? err.message : err);
    });
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, minutes * 60_000);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
