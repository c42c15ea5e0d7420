// The replay clock: how far one animation frame moves the player, with idle gaps played as at most a second
// when skipping idle, and which loaded events are due by a time. Pure, so the player stays a thin shell over it.

export const IDLE_CAP_SECONDS = 1;

interface Timed {
  t: number;
}

/**
 * The position after `elapsed` seconds of wall time at `speed`. Skipping idle, a wait longer than a second
 * for the next event (`nextAt`) is cut to a second, so long pauses pass quickly and times stay real.
 */
export function advanceClock(
  position: number,
  elapsed: number,
  speed: number,
  nextAt: number | undefined,
  isSkippingIdle: boolean,
): number {
  let from = position;
  if (isSkippingIdle && nextAt !== undefined && nextAt - from > IDLE_CAP_SECONDS) {
    from = nextAt - IDLE_CAP_SECONDS;
  }
  return from + elapsed * speed;
}

/** How many of the (time-ordered) events from `start` are at or before `at`, counted from `start`. */
export function countDue(events: Timed[], start: number, at: number): number {
  let lo = start;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid]?.t ?? 0) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo - start;
}
