import { describe, expect, it } from "vitest";
import { countUpTo, placeOnClock } from "./replay-clock";
import { type RecordedEvent, toStatementViews, toTerminalRecording } from "./session-events";

const event = (id: number, type: string, data: Record<string, unknown>): RecordedEvent => ({
  id,
  at: "2026-11-23T10:00:00.000Z",
  type,
  data,
});

describe("session events", () => {
  it("marks a held line's review outcome on the terminal timeline, with who decided", () => {
    const recording = toTerminalRecording([
      event(1, "command", { t: 1, command: "kubectl delete pod x", decision: "review", reasons: [] }),
      event(2, "review", { t: 1.1, reviewId: "r", outcome: "held", command: "kubectl delete pod x" }),
      event(3, "review", {
        t: 5,
        reviewId: "r",
        outcome: "approved",
        by: ["lead@example.com"],
        comments: "",
      }),
      event(4, "review", { t: 9, reviewId: "q", outcome: "denied", by: ["ada"], comments: " (“no”)" }),
    ]);
    expect(recording.commands.map((c) => [c.command, c.decision])).toEqual([
      ["kubectl delete pod x", "review"],
      ["review approved by lead@example.com", "allow"],
      ["review denied by ada", "deny"],
    ]);
  });

  it("pairs statements with their results and keeps masked cells of the first 20 rows", () => {
    const rows = Array.from({ length: 30 }, (_, i) => [i, `••••${i}`]);
    const views = toStatementViews([
      event(1, "statement", {
        input: "select id, card from t",
        decision: "allow",
        class: "read",
        reasons: [],
      }),
      event(2, "statement", {
        input: "delete from t",
        decision: "review",
        reviewId: "r-1",
        reasons: [
          { ruleName: "default", action: "review", message: "unbounded write", class: "unbounded-write" },
        ],
      }),
      event(3, "result", {
        statementEventId: 1,
        status: "done",
        durationMs: 4.2,
        rowCount: 30,
        results: [
          {
            columns: [{ name: "id" }, { name: "card" }],
            rows,
            masked: rows.map((_, i) => [i, 1, "credit_card"]),
            rowCount: 30,
            recordedRows: 30,
          },
        ],
      }),
    ]);
    expect(views).toHaveLength(2);
    const [select, held] = views;
    expect(select?.outcome?.rowCount).toBe(30);
    expect(select?.outcome?.results[0]?.rows).toHaveLength(20);
    expect(select?.outcome?.results[0]?.masked["19:1"]).toBe("credit_card");
    expect(select?.outcome?.results[0]?.masked["20:1"]).toBeUndefined();
    expect(held).toMatchObject({ decision: "review", reviewId: "r-1", outcome: null });
    expect(held?.reasons[0]?.message).toBe("unbounded write");
  });

  it("reads a terminal recording and caps idle gaps at a second when skipping idle", () => {
    const recording = toTerminalRecording([
      event(1, "resize", { t: 0, cols: 100, rows: 30 }),
      event(2, "output", { t: 0.5, data: "$ " }),
      event(3, "command", { t: 10, command: "rm -rf /", decision: "deny", reasons: [{ message: "no" }] }),
      event(4, "output", { t: 10.2, data: "refused" }),
      event(5, "output", { t: 70, data: "bye" }),
    ]);
    expect(recording).toMatchObject({ cols: 100, rows: 30, length: 70 });
    expect(recording.commands[0]).toMatchObject({ command: "rm -rf /", decision: "deny", reason: "no" });
    const real = placeOnClock(recording, false);
    expect(real.output.map((o) => o.at)).toEqual([0.5, 10.2, 70]);
    const skipped = placeOnClock(recording, true);
    expect(skipped.commands[0]?.at).toBeCloseTo(1.5);
    expect(skipped.output.map((o) => o.at)).toEqual([0.5, expect.closeTo(1.7), expect.closeTo(2.7)]);
    expect(countUpTo(skipped.output, 1.7)).toBe(2);
    expect(countUpTo(skipped.output, 0)).toBe(0);
  });
});
