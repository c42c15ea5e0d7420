import { describe, expect, it } from "vitest";
import { toAsciicast } from "./export";

describe("toAsciicast", () => {
  const events = [
    { type: "resize", data: { t: 0, cols: 100, rows: 30 } },
    { type: "output", data: { t: 0.5, data: "$ " } },
    { type: "output", data: { t: 1.25, data: "echo hi\r\nhi\r\n$ " } },
    // Keystrokes are stored after the output they caused, with their own earlier time.
    { type: "input", data: { t: 1, data: "echo hi\r" } },
    { type: "command", data: { t: 1.1, command: "echo hi", decision: "allow", isHidden: false } },
    { type: "resize", data: { t: 2, cols: 80, rows: 24 } },
    { type: "command", data: { t: 3, command: null, decision: "deny", isHidden: true } },
  ];

  it("writes the header from the first size and one line per event, in time order", () => {
    const lines = toAsciicast(events, new Date("2026-11-23T10:00:00Z"), { withInput: true })
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    expect(lines[0]).toMatchObject({ version: 2, width: 100, height: 30, timestamp: 1795428000 });
    expect(lines.slice(1)).toEqual([
      [0.5, "o", "$ "],
      [1, "i", "echo hi\r"],
      [1.1, "m", "allow: echo hi"],
      [1.25, "o", "echo hi\r\nhi\r\n$ "],
      [2, "r", "80x24"],
      [3, "m", "deny: (input not echoed)"],
    ]);
  });

  it("leaves keystrokes out unless asked", () => {
    expect(toAsciicast(events, new Date())).not.toContain('"i"');
  });
});
