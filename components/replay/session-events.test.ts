import { describe, expect, it } from "vitest";
import { type RecordedEvent, toStatementViews } from "./session-events";

const event = (id: number, type: string, data: Record<string, unknown>): RecordedEvent => ({
  id,
  at: "2026-11-23T10:00:00.000Z",
  type,
  data,
});

describe("session events", () => {
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
});
