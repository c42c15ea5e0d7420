import { describe, expect, it } from "vitest";
import { advanceClock, countDue, IDLE_CAP_SECONDS } from "./replay-clock";

describe("replay clock", () => {
  it("moves by wall time times speed", () => {
    expect(advanceClock(10, 0.5, 4, 100, false)).toBe(12);
    expect(advanceClock(10, 0.5, 1, 10.2, true)).toBe(10.5);
  });

  it("cuts a wait longer than a second for the next event to a second when skipping idle", () => {
    expect(advanceClock(10, 0.25, 1, 70, true)).toBe(70 - IDLE_CAP_SECONDS + 0.25);
    expect(advanceClock(10, 0.25, 1, 70, false)).toBe(10.25);
    // Nothing loaded ahead: no jump.
    expect(advanceClock(10, 0.25, 2, undefined, true)).toBe(10.5);
  });

  it("counts the events due by a time from where playing stands", () => {
    const events = [{ t: 0.5 }, { t: 1 }, { t: 1 }, { t: 3 }, { t: 9 }];
    expect(countDue(events, 0, 1)).toBe(3);
    expect(countDue(events, 3, 1)).toBe(0);
    expect(countDue(events, 3, 5)).toBe(1);
    expect(countDue(events, 0, 0.1)).toBe(0);
    expect(countDue(events, 0, 100)).toBe(5);
  });
});
