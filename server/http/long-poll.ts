/**
 * Long polls on held requests (`Prefer: wait=N` on exec, a review, a session): wait until a review is settled
 * (decided, and run when approved) or N seconds pass. Waiters sleep on the "reviews changed" signal, which is
 * in-process and crosses replicas through NOTIFY, and re-read only when it fires: no polling loop. A waiter
 * leaves on its deadline or when the caller disconnects (the request's AbortSignal), and always unsubscribes.
 * Not responsible for what a reply looks like (exec-reply.ts) or for deciding reviews.
 */
import "server-only";
import { getReview, reviewSignals } from "@/server/approvals";
import { hasPermission, type Principal } from "@/server/auth/principal";
import { notFound } from "@/server/errors";
import { getSessionWithEvents } from "@/server/recording";
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

type SessionWithEvents = NonNullable<Awaited<ReturnType<typeof getSessionWithEvents>>>;

/** A session with its events, for its own principal or an auditor; anyone else gets the same 404 as for none. */
export async function readSession(principal: Principal, id: string): Promise<SessionWithEvents> {
  const found = await getSessionWithEvents(id);
  if (!found || (found.session.principalId !== principal.id && !hasPermission(principal, "audit:read"))) {
    throw notFound("no such session");
  }
  return found;
}

/** Reviews of the session's held statements that are not settled yet, as a comparable key. */
async function unsettledReviews(principal: Principal, found: SessionWithEvents): Promise<string> {
  const ran = new Set(
    found.events.filter((e) => e.type === "result" && e.data.reviewId).map((e) => String(e.data.reviewId)),
  );
  const held = found.events
    .filter((e) => e.type === "statement" && e.data.status === "held" && typeof e.data.reviewId === "string")
    .map((e) => String(e.data.reviewId))
    .filter((id) => !ran.has(id));
  const states = await Promise.all(
    held.map(async (id) => [id, (await getReview(principal, id)).state] as const),
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
): Promise<SessionWithEvents> {
  const first = await readSession(principal, id);
  if (!waitSeconds) return first;
  const seen = await unsettledReviews(principal, first);
  if (seen === "") return first;
  const moved = await waitForReviewChange(
    async () => {
      const found = await readSession(principal, id);
      return (await unsettledReviews(principal, found)) !== seen ? found : undefined;
    },
    waitSeconds * 1000,
    signal,
  );
  return moved ?? readSession(principal, id);
}
