/**
 * Checks an evidence bundle (GET /api/v1/sessions/{id}/evidence) on its own, without the store: every event's
 * hash is recomputed from its content and the chain is followed to the head the bundle states. A bundle edited
 * after export fails at the first changed event. The check proves the events match the head; that the head is
 * the real one is proved by comparing it with a copy kept elsewhere (`pinnedHead`).
 */
import "server-only";
import { z } from "zod";
import type { SessionEvent } from "@/db/schema";
import type { ChainVerification } from "./hash-chain";
import { verifySessionEvents } from "./verify";

const bundleSchema = z.object({
  session: z.looseObject({ id: z.string().min(1) }),
  events: z.array(
    z.object({
      id: z.number(),
      seq: z.number().int().positive().nullable(),
      at: z.iso.datetime({ offset: true }),
      type: z.string(),
      data: z.unknown(),
      hash: z.string().nullable(),
    }),
  ),
  integrity: z.looseObject({
    session: z.looseObject({ head: z.object({ seq: z.number().int().nonnegative(), hash: z.string() }) }),
  }),
});

export interface BundleVerification extends ChainVerification {
  sessionId: string;
}

/** Verifies a parsed bundle file; throws (naming the field) when it is not an evidence bundle at all. */
export function verifyEvidenceBundle(input: unknown, pinnedHead?: string): BundleVerification {
  const parsed = bundleSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`not an evidence bundle: ${issue?.path.join(".") || "the file"}: ${issue?.message}`);
  }
  const { session, events, integrity } = parsed.data;
  // The events as the store held them: the same check as for a stored session.
  const result = verifySessionEvents(
    { eventSeq: integrity.session.head.seq, chainHead: integrity.session.head.hash },
    events.map((e) => ({
      ...e,
      sessionId: session.id,
      at: new Date(e.at),
      data: e.data as SessionEvent["data"],
    })),
  );
  if (result.ok && pinnedHead !== undefined && pinnedHead !== result.head.hash) {
    return {
      ...result,
      ok: false,
      sessionId: session.id,
      firstBadSeq: result.head.seq,
      reason:
        "the bundle's chain head is not the head you pinned (the bundle was rebuilt, or is another one)",
    };
  }
  return { ...result, sessionId: session.id };
}
