/**
 * Long polls on held requests (`Prefer: wait=N` on exec, a review, a session): wait until a review is settled
 * (decided, and run when approved) or N seconds pass. Waiters sleep on the "reviews changed" signal, which is
 * in-process and crosses replicas through NOTIFY, and re-read only when it fires: no polling loop. A waiter
 * leaves on its deadline or when the caller disconnects (the request's AbortSignal), and always unsubscribes.
 * Not responsible for what a reply looks like (exec-reply.ts) or for deciding reviews.
 */
import "server-only";
import type { SessionEvent } from "@/db/schema";
import { getReview, reviewSignals } from "@/server/approvals";
import type { Principal } from "@/server/principal";
import { readSessionEvents, sessionEventPage, visibleSession } from "@/server/recording";
import { processSingleton } from "@/server/singleton";

const waiters = processSingleton("longPollWaiters", () => ({ active: 0 }));

/** Long polls in progress in this process (tests check that a disconnect leaves none behind). */
export function activeLongPolls(): number {
  return waiters.active;
}

/**
 * Runs `check` now and again each time reviews change, until it returns a value, the time is up or the signal
 * aborts (then undefined). A change that lands while a check runs triggers another check, so none is missed.
 */
export async function waitForReviewChange<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let changed = true;
  let wake: (() => void) | undefined;
  const onChange = () => {
    changed = true;
    wake?.();
  };
  const onAbort = () => wake?.();
  reviewSignals.addEventListener("changed", onChange);
  signal?.addEventListener("abort", onAbort);
  waiters.active += 1;
  try {
    while (!signal?.aborted) {
      if (changed) {
        changed = false;
        const found = await check();
        if (found !== undefined) return found;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
    return undefined;
  } finally {
    waiters.active -= 1;
    reviewSignals.removeEventListener("changed", onChange);
    signal?.removeEventListener("abort", onAbort);
  }
}

export type ReviewWithResult = Awaited<ReturnType<typeof getReview>>;

/** Pending, or approved and still running: the caller has no outcome yet. */
export function isReviewSettled(state: ReviewWithResult["state"]): boolean {
  return state !== "pending" && state !== "approved";
}

const reviewProgress = (r: ReviewWithResult) => `${r.state}:${r.decisions.length}`;

/**
 * A review; with a wait, returns once it is settled or another decision was recorded (a two-approval review
 * moves on with the first one), or when the time is up. The transient "approved, running" state is waited
 * through, so an approved review comes back with its result.
 */
export async function readReviewWaiting(
  principal: Principal,
  id: string,
  waitSeconds?: number,
  signal?: AbortSignal,
): Promise<ReviewWithResult> {
  const first = await getReview(principal, id);
  if (!waitSeconds || isReviewSettled(first.state)) return first;
  const seen = reviewProgress(first);
  const moved = await waitForReviewChange(
    async () => {
      const review = await getReview(principal, id);
      const hasMoved =
        isReviewSettled(review.state) || (review.state !== "approved" && reviewProgress(review) !== seen);
      return hasMoved ? review : undefined;
    },
    waitSeconds * 1000,
    signal,
  );
  return moved ?? getReview(principal, id);
}

/** Waits for a held review to be settled; undefined when the time ran out or the caller left. */
export function waitForSettledReview(
  principal: Principal,
  id: string,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<ReviewWithResult | undefined> {
  return waitForReviewChange(
    async () => {
      const review = await getReview(principal, id);
      return isReviewSettled(review.state) ? review : undefined;
    },
    waitSeconds * 1000,
    signal,
  );
}

/** A page of a session's events: those after event id `after`, at most `limit` of them. */
export interface EventPage {
  after: number;
  limit: number;
}

export const DEFAULT_EVENT_PAGE: EventPage = { after: 0, limit: 1000 };
export const MAX_EVENTS_PER_PAGE = 5000;

type SessionRow = Awaited<ReturnType<typeof visibleSession>>;
interface SessionWithEvents {
  session: SessionRow;
  events: SessionEvent[];
  /** the id to pass as `after` for the next page, when there are more events */
  nextAfter?: number;
}

/**
 * A session with a page of its events, for its own principal or an auditor. A terminal session holds its whole
 * screen output as events: pages keep a reply bounded.
 */
export async function readSession(
  principal: Principal,
  id: string,
  page: EventPage = DEFAULT_EVENT_PAGE,
): Promise<SessionWithEvents> {
  const session = await visibleSession(principal, id);
  // One more than asked for says whether there is a next page.
  const rows = await sessionEventPage(id, { after: page.after, limit: page.limit + 1 });
  const events = rows.slice(0, page.limit);
  return {
    session,
    events,
    ...(rows.length > page.limit && { nextAfter: events[events.length - 1]!.id }),
  };
}

/** Reviews of the session's held statements that are not settled yet, as a comparable key (all pages). */
async function unsettledReviews(principal: Principal, sessionId: string): Promise<string> {
  const ran = new Set<string>();
  const held: string[] = [];
  for await (const e of readSessionEvents(sessionId, { types: ["statement", "result"] })) {
    if (e.type === "result" && e.data.reviewId) ran.add(String(e.data.reviewId));
    if (e.type === "statement" && e.data.status === "held" && typeof e.data.reviewId === "string")
      held.push(e.data.reviewId);
  }
  const states = await Promise.all(
    held
      .filter((id) => !ran.has(id))
      .map(async (id) => [id, (await getReview(principal, id)).state] as const),
  );
  return states
    .filter(([, state]) => !isReviewSettled(state))
    .map(([id]) => id)
    .join(",");
}

/**
 * A session; with a wait and a statement held for review in it, returns once one of its held statements is
 * settled (decided, and run when approved) or when the time is up. With nothing held it answers at once.
 */
export async function readSessionWaiting(
  principal: Principal,
  id: string,
  waitSeconds?: number,
  signal?: AbortSignal,
  page: EventPage = DEFAULT_EVENT_PAGE,
): Promise<SessionWithEvents> {
  const first = await readSession(principal, id, page);
  if (!waitSeconds) return first;
  const seen = await unsettledReviews(principal, id);
  if (seen === "") return first;
  // Settled, or the time is up, or the caller left: the session as it is then.
  await waitForReviewChange(
    async () => ((await unsettledReviews(principal, id)) !== seen ? true : undefined),
    waitSeconds * 1000,
    signal,
  );
  return readSession(principal, id, page);
}
