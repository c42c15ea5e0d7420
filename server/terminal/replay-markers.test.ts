import { describe, expect, it } from "vitest";
import { markerOf } from "./replay";

describe("replay timeline markers", () => {
  it("marks a held line's review outcome with who decided, and not the hold itself", () => {
    const markers = [
      { type: "command", data: { t: 1, command: "kubectl delete pod x", decision: "review", reasons: [] } },
      { type: "review", data: { t: 1.1, reviewId: "r", outcome: "held", command: "kubectl delete pod x" } },
      { type: "review", data: { t: 5, reviewId: "r", outcome: "approved", by: ["lead@example.com"] } },
      { type: "review", data: { t: 9, reviewId: "q", outcome: "denied", by: ["ada"], comments: "no" } },
      {
        type: "command",
        data: { t: 10, command: "shutdown now", decision: "deny", reasons: [{ message: "no" }] },
      },
      { type: "masked", data: { t: 11, fields: 2 } },
    ].map((row) => markerOf(row, row.data.t));
    expect(markers.map((m) => m && [m.kind, m.label])).toEqual([
      ["approval", "kubectl delete pod x"],
      undefined,
      ["approval", "review approved by lead@example.com"],
      ["blocked", "review denied by ada"],
      ["blocked", "shutdown now"],
      ["masked", "2 masked values"],
    ]);
  });
});
