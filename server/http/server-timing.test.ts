import { describe, expect, it } from "vitest";
import { noteArrival, parseServerTiming, StageTimer } from "./server-timing";

describe("StageTimer", () => {
  it("names each stage once, adds up a stage marked twice, and reads back through parseServerTiming", async () => {
    const timer = new StageTimer();
    await new Promise((r) => setTimeout(r, 5));
    timer.mark("parse");
    timer.mark("record");
    await new Promise((r) => setTimeout(r, 5));
    timer.mark("target");
    timer.mark("record");
    const header = timer.header();
    expect(header.split(", ").map((p) => p.split(";")[0])).toEqual(["parse", "record", "target"]);
    const parsed = parseServerTiming(header);
    expect(parsed.parse).toBeGreaterThan(0);
    expect(parsed.target).toBeGreaterThan(0);
    expect(Object.values(parsed).every((ms) => ms >= 0)).toBe(true);
  });

  it("moves part of one stage to another, never more than the stage holds", async () => {
    const timer = new StageTimer();
    await new Promise((r) => setTimeout(r, 5));
    timer.mark("target");
    const before = parseServerTiming(timer.header()).target ?? 0;
    timer.reassign(2, "target", "mask");
    const after = parseServerTiming(timer.header());
    expect(after.target).toBeCloseTo(before - 2, 1);
    expect(after.mask).toBeCloseTo(2, 1);
    timer.reassign(1e9, "target", "mask");
    expect(parseServerTiming(timer.header()).target).toBe(0);
    expect(parseServerTiming(timer.header()).mask).toBeCloseTo(before, 1);
    timer.reassign(1, "absent", "mask");
    expect(parseServerTiming(timer.header()).mask).toBeCloseTo(before, 1);
  });

  it("starts at a request's noted arrival, or now for a request nobody noted", async () => {
    const noted = new Request("http://localhost/");
    noteArrival(noted, performance.now() - 50);
    const timer = StageTimer.since(noted);
    timer.mark("request");
    expect(parseServerTiming(timer.header()).request).toBeGreaterThanOrEqual(49);
    const fresh = StageTimer.since(new Request("http://localhost/"));
    fresh.mark("request");
    expect(parseServerTiming(fresh.header()).request).toBeLessThan(49);
  });
});

describe("parseServerTiming", () => {
  it("reads durations, ignores entries without one, and tolerates a missing header", () => {
    expect(parseServerTiming('db;dur=1.5;desc="x", cache;desc=hit, app;dur=2')).toEqual({ db: 1.5, app: 2 });
    expect(parseServerTiming(null)).toEqual({});
    expect(parseServerTiming("bad;dur=abc")).toEqual({});
  });
});
