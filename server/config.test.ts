import { describe, expect, it } from "vitest";
import { parseRetentionDays } from "./config";

describe("RETENTION_DAYS", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["off", undefined],
    ["0", undefined],
    ["90", 90],
    [" 7 ", 7],
    ["0.5", 0.5],
  ])("reads %j as %j", (value, expected) => {
    expect(parseRetentionDays(value)).toBe(expected);
  });

  it.each(["-1", "ninety", "1e400"])("refuses %j with a message naming the variable", (value) => {
    expect(() => parseRetentionDays(value)).toThrow(/RETENTION_DAYS/);
  });
});
