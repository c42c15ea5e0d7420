import { describe, expect, it } from "vitest";
import { ChunkCollector, plainText, type StoredRow } from "./replay-chunk";

const output = (id: number, t: number, data = "x"): StoredRow => ({ id, type: "output", data: { t, data } });

describe("replay chunks", () => {
  it("holds everything through the seek time, then a window ahead, and says where to go on", () => {
    const collector = new ChunkCollector(10, 40, 1000);
    collector.add([
      { id: 1, type: "resize", data: { t: 0, cols: 100, rows: 30 } },
      output(2, 5),
      { id: 3, type: "input", data: { t: 6, data: "ls\r" } },
      output(4, 10),
      output(5, 20),
      output(6, 39),
      output(7, 41),
      output(8, 42),
    ]);
    expect(collector.isDone).toBe(true);
    expect(collector.events.map((e) => e.id)).toEqual([1, 2, 4, 5, 6]);
    expect(collector.events[0]).toEqual({ id: 1, t: 0, type: "resize", cols: 100, rows: 30 });
    expect(collector.lastId()).toBe(6);
  });

  it("stops the window ahead at its output budget but always takes one event to make progress", () => {
    const collector = new ChunkCollector(10, 100, 5);
    collector.add([output(1, 11, "123456"), output(2, 12, "7")]);
    expect(collector.events.map((e) => e.id)).toEqual([1]);
    expect(collector.isDone).toBe(true);
    const after = new ChunkCollector(-1, 5);
    after.add([output(3, 3600)]);
    expect(after.events.map((e) => e.id)).toEqual([3]);
    expect(after.isDone).toBe(false);
  });

  it("keeps a seek's events even when they exceed the window budget", () => {
    const collector = new ChunkCollector(10, 11, 1);
    collector.add([output(1, 1, "a".repeat(50)), output(2, 9, "b".repeat(50)), output(3, 10.5)]);
    expect(collector.events.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it("shows search context without escape sequences", () => {
    expect(plainText("\u001b[1;31mred\u001b[0m\r\n\u001b]0;title\u0007$ ls")).toBe("red $ ls");
  });
});
