/**
 * "Reviews changed" signal shared by every replica. Locally an EventTarget (the inbox badge and the live socket
 * listen to it); when the store is PostgreSQL the signal also travels as `NOTIFY portcullis_reviews` and each
 * process LISTENs and re-dispatches what other processes sent. With the embedded store there is one process,
 * so the EventTarget is enough. Not responsible for what changed: listeners refetch.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { processSingleton } from "@/server/singleton";
import { listenOnStore, notifyOnStore } from "@/server/store-listen";

export const REVIEWS_CHANNEL = "portcullis_reviews";

/** Identifies this process's own notifications, which it already dispatched locally. */
const origin = processSingleton("reviewSignalsOrigin", () => randomUUID());

interface ListenerState {
  started?: Promise<void>;
  stop?: () => Promise<void>;
}
const listener = processSingleton<ListenerState>("reviewSignalsListener", () => ({}));

/** An EventTarget that starts the cross-replica listener when someone first subscribes. */
class ReviewSignals extends EventTarget {
  override addEventListener(
    type: string,
    callback: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    super.addEventListener(type, callback, options);
    startReviewSignals().catch((err) => console.error("[portcullis] review signal listener failed:", err));
  }
}

export const reviewSignals = processSingleton("reviewSignals", () => new ReviewSignals());

/**
 * LISTENs on the store when it is PostgreSQL; idempotent, safe to call from bootstrap and from subscribers.
 * A failed start is forgotten so that the next subscriber tries again.
 */
export function startReviewSignals(): Promise<void> {
  listener.started ??= (async () => {
    listener.stop = await listenOnStore(REVIEWS_CHANNEL, (payload) => {
      if (payload === origin) return;
      reviewSignals.dispatchEvent(new Event("changed"));
    });
  })().catch((err: unknown) => {
    listener.started = undefined;
    throw err;
  });
  return listener.started;
}

/** Stops listening (tests, shutdown). */
export async function stopReviewSignals(): Promise<void> {
  const stop = listener.stop;
  listener.started = undefined;
  listener.stop = undefined;
  await stop?.();
}

/**
 * Tells this process at once, and other replicas through the store. Never rejects; callers need not wait for
 * the NOTIFY (the returned promise is for tests and short-lived scripts).
 */
export function signalReviewsChanged(): Promise<void> {
  reviewSignals.dispatchEvent(new Event("changed"));
  return notifyReplicas().catch((err) => console.error("[portcullis] could not signal other replicas:", err));
}

function notifyReplicas(): Promise<void> {
  return notifyOnStore(REVIEWS_CHANNEL, origin);
}
