// The replay clock: where each recorded event falls when idle gaps are capped, and how many events are due by a
// given time. Pure, so the player stays a thin shell over it.
import type { TerminalRecording } from "./session-events";

export const IDLE_CAP_SECONDS = 1;

interface Timed {
  at: number;
}

/** Places events on the playback clock: real seconds, or with idle gaps capped at a second. */
export function placeOnClock(recording: TerminalRecording, isSkippingIdle: boolean) {
  const times = [
    ...new Set([...recording.output.map((o) => o.t), ...recording.commands.map((c) => c.t)]),
  ].sort((a, b) => a - b);
  const clock = new Map<number, number>();
  let previous = 0;
  let at = 0;
  for (const t of times) {
    const gap = t - previous;
    at += isSkippingIdle ? Math.min(gap, IDLE_CAP_SECONDS) : gap;
    clock.set(t, at);
    previous = t;
  }
  const on = (t: number) => clock.get(t) ?? t;
  return {
    output: recording.output.map((o) => ({ at: on(o.t), data: o.data })),
    commands: recording.commands.map((c) => ({ ...c, at: on(c.t) })),
    length: Math.max(at, 0.1),
  };
}

/** How many of the (time-ordered) events are at or before `at`. */
export function countUpTo(events: Timed[], at: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid]?.at ?? 0) <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
