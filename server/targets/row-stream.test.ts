import { describe, expect, it } from "vitest";
import { readRows, STREAM_BATCH_ROWS, StreamStopped } from "./row-stream";

/** A query as postgres.js runs one: rows handed to forEach synchronously, in chunks between turns. */
function fakeQuery(count: number, options: { failAt?: number; chunk?: number } = {}) {
  return {
    forEach(fn: (row: unknown) => void) {
      return (async () => {
        for (let i = 1; i <= count; i++) {
          if (i === options.failAt) throw Object.assign(new Error("division by zero"), { code: "22012" });
          fn([i]);
          if (i % (options.chunk ?? 1000) === 0) await new Promise((r) => setImmediate(r));
        }
        return { command: "SELECT", count };
      })();
    },
  };
}

function control() {
  const events: string[] = [];
  return {
    events,
    pause: () => events.push("pause"),
    resume: () => events.push("resume"),
    cancel: () => events.push("cancel"),
  };
}

describe("readRows", () => {
  it("returns a result of at most `keep` rows whole, nothing handed over", async () => {
    const taken: unknown[][][] = [];
    const read = await readRows(fakeQuery(1000), 5000, {
      rows: { keep: 1000, take: async (rows) => void taken.push(rows) },
      control: control(),
    });
    expect(read.rows).toHaveLength(1000);
    expect(read.streamed).toBeUndefined();
    expect(taken).toEqual([]);
  });

  it("streams a longer one in order, every row once, past the row limit, the first batch holding the kept rows", async () => {
    const seen: number[] = [];
    const firsts: boolean[] = [];
    const read = await readRows(fakeQuery(23_456), 5000, {
      rows: {
        keep: 1000,
        take: async (rows, first) => {
          firsts.push(first);
          for (const r of rows) seen.push(r[0] as number);
          await new Promise((r) => setTimeout(r, 1));
        },
      },
      control: control(),
    });
    expect(read.streamed).toBe(23_456);
    expect(read.rows).toEqual([]);
    expect(seen).toEqual(Array.from({ length: 23_456 }, (_, i) => i + 1));
    expect(firsts[0]).toBe(true);
    expect(firsts.slice(1).every((f) => !f)).toBe(true);
  });

  it("pauses the target while more than one batch waits for a slow taker, and resumes it", async () => {
    const c = control();
    let most = 0;
    let waiting = 0;
    await readRows(fakeQuery(STREAM_BATCH_ROWS * 6, { chunk: STREAM_BATCH_ROWS }), 10, {
      rows: {
        keep: 10,
        take: async () => {
          waiting++;
          most = Math.max(most, waiting);
          await new Promise((r) => setTimeout(r, 5));
          waiting--;
        },
      },
      control: c,
    });
    expect(c.events).toContain("pause");
    expect(c.events.filter((e) => e === "pause").length).toBe(c.events.filter((e) => e === "resume").length);
    expect(most).toBe(1);
  });

  it("cancels the query and throws StreamStopped when a take fails; no later batch is taken", async () => {
    const c = control();
    let takes = 0;
    const gone = new Error("the client went away");
    const reading = readRows(fakeQuery(50_000), 10, {
      rows: {
        keep: 10,
        take: async () => {
          takes++;
          if (takes === 2) throw gone;
        },
      },
      control: c,
    });
    const err = await reading.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamStopped);
    expect((err as StreamStopped).reason).toBe(gone);
    expect(c.events).toContain("cancel");
    expect(takes).toBe(2);
  });

  it("hands over the rows before a target error, then throws the error", async () => {
    const seen: number[] = [];
    const err = await readRows(fakeQuery(20_000, { failAt: 12_345 }), 10, {
      rows: { keep: 1000, take: async (rows) => void seen.push(...rows.map((r) => r[0] as number)) },
      control: control(),
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("22012");
    expect(seen).toHaveLength(12_344);
    expect(seen.at(-1)).toBe(12_344);
  });
});
