/**
 * "A review held in a session was decided" (approved, denied, expired, cancelled), on every replica: handlers of
 * this process are called at once, and the signal travels as `NOTIFY portcullis_review_decided` to the others,
 * which call theirs (a process skips its own NOTIFY, already handled). The payload names the review, its session
 * and its new state only: nothing of the input, so a receiver reads the review itself (readReview) when it holds
 * that session. With the embedded store there is one process and no NOTIFY. Not responsible for telling anyone
 * (the native listener's review-notices.ts does, for the client connection that holds the review).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { Review } from "@/db/schema";
import { processSingleton } from "@/server/singleton";
import { listenOnStore, notifyOnStore } from "@/server/store-listen";

export const REVIEW_DECIDED_CHANNEL = "portcullis_review_decided";

export const DECIDED_STATES = ["approved", "denied", "expired", "cancelled"] as const;
export type DecidedState = (typeof DECIDED_STATES)[number];

export interface ReviewDecided {
  reviewId: string;
  sessionId: string;
  state: DecidedState;
}

type Handler = (decided: ReviewDecided) => void;

interface DecisionWatch {
  origin: string;
  handlers: Set<Handler>;
  listening?: Promise<(() => Promise<void>) | undefined>;
}

const watch = processSingleton<DecisionWatch>("reviewDecisionWatch", () => ({
  origin: randomUUID(),
  handlers: new Set(),
}));

function dispatch(decided: ReviewDecided) {
  for (const handler of watch.handlers) {
    try {
      handler(decided);
    } catch (err) {
      console.error(
        "[portcullis] a review decision handler failed:",
        err instanceof Error ? err.message : err,
      );
    }
  }
}

/** A NOTIFY payload as sent by signalReviewDecided, or undefined for anything else (ignored). */
export function parseDecidedPayload(payload: string): (ReviewDecided & { origin: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { origin, reviewId, sessionId, state } = value as Record<string, unknown>;
  if (typeof origin !== "string" || typeof reviewId !== "string" || typeof sessionId !== "string")
    return undefined;
  if (!DECIDED_STATES.includes(state as DecidedState)) return undefined;
  return { origin, reviewId, sessionId, state: state as DecidedState };
}

/**
 * Tells this process's handlers at once and other replicas through the store. Nothing for a review held outside
 * a session. Never rejects (a NOTIFY that fails is logged: the decision itself stands).
 */
export async function signalReviewDecided(
  review: Pick<Review, "id" | "sessionId">,
  state: DecidedState,
): Promise<void> {
  if (!review.sessionId) return;
  const decided: ReviewDecided = { reviewId: review.id, sessionId: review.sessionId, state };
  dispatch(decided);
  await notifyOnStore(REVIEW_DECIDED_CHANNEL, JSON.stringify({ origin: watch.origin, ...decided })).catch(
    (err) =>
      console.error(
        "[portcullis] could not signal other replicas that a review was decided:",
        err instanceof Error ? err.message : err,
      ),
  );
}

/**
 * Calls the handler for every review decided from now on, in this process or another replica. Resolves once the
 * store's LISTEN is in place (decisions on other replicas reach it from then on); to the stop function.
 */
export async function watchReviewDecisions(handler: Handler): Promise<() => Promise<void>> {
  watch.handlers.add(handler);
  watch.listening ??= listenOnStore(REVIEW_DECIDED_CHANNEL, (payload) => {
    const decided = parseDecidedPayload(payload);
    if (!decided || decided.origin === watch.origin) return;
    const { origin: _, ...rest } = decided;
    dispatch(rest);
  });
  try {
    await watch.listening;
  } catch (err) {
    watch.handlers.delete(handler);
    watch.listening = undefined;
    throw err;
  }
  return async () => {
    watch.handlers.delete(handler);
    if (watch.handlers.size > 0) return;
    const listening = watch.listening;
    watch.listening = undefined;
    const stop = await listening?.catch(() => undefined);
    await stop?.();
  };
}
