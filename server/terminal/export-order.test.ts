// Streaming an asciicast export orders events by time with a bounded look-ahead instead of sorting the whole
// recording: for recordings as the recorder writes them (keystroke batches stored up to 250 ms late), the order
// is exactly the full sort's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimeOrder } from "./export";

type Ev = { type: string; data: { t: number; data: string } };

function ordered(events: Ev[], windowS: number): Ev[] {
  const order = new TimeOrder(windowS);
  const out: Ev[] = [];
  for (const e of events) out.push(...(order.push(e) as Ev[]));
  out.push(...(order.drain() as Ev[]));
  return out;
}

const fullSort = (events: Ev[]) =>
  events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => a.event.data.t - b.event.data.t || a.index - b.index)
    .map((e) => e.event);

describe("TimeOrder", () => {
  it("gives the full sort's order when keystrokes are stored at most 250 ms late", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.boolean(), fc.integer({ min: 0, max: 250 })), {
          maxLength: 300,
        }),
        (steps) => {
          // Output at increasing times; a keystroke batch stamped up to 250 ms before the output it follows.
          let now = 0;
          const events: Ev[] = [];
          for (const [gapMs, isInput, lateMs] of steps) {
            now += gapMs / 1000;
            const t = isInput ? Math.max(0, now - lateMs / 1000) : now;
            events.push({ type: isInput ? "input" : "output", data: { t, data: String(events.length) } });
          }
          expect(ordered(events, 2)).toEqual(fullSort(events));
        },
      ),
    );
  });

  it("lets events out as the window passes, holding only the last moments", () => {
    const order = new TimeOrder(2);
    expect(order.push({ type: "output", data: { t: 0, data: "a" } })).toEqual([]);
    expect(order.push({ type: "output", data: { t: 1, data: "b" } })).toEqual([]);
    expect(order.push({ type: "output", data: { t: 3, data: "c" } }).map((e) => e.data.data)).toEqual([
      "a",
      "b",
    ]);
  });

  it("holds no more than its character bound, even within the window", () => {
    const order = new TimeOrder(60);
    const big = "x".repeat(3 * 1024 * 1024);
    let out = 0;
    for (let i = 0; i < 10; i++)
      out += order.push({ type: "output", data: { t: i / 100, data: big } }).length;
    expect(out).toBeGreaterThanOrEqual(7);
  });
});
