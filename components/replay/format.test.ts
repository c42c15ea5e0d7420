import { describe, expect, it } from "vitest";
import { formatClock, parseClock } from "./format";

describe("player clock", () => {
  it.each([
    ["75", 75],
    ["1:05", 65],
    ["1:05.5", 65.5],
    ["12:05", 725],
    ["1:02:03", 3723],
    ["2:00:00", 7200],
  ])("reads %s as %d seconds", (text, seconds) => {
    expect(parseClock(text)).toBe(seconds);
  });

  it.each(["", "abc", "1:2:3:4", "-5", "1::2"])("refuses %j", (text) => {
    expect(parseClock(text)).toBeUndefined();
  });

  it("writes minutes under an hour and hours past it", () => {
    expect(formatClock(65.34)).toBe("1:05.3");
    expect(formatClock(3723)).toBe("1:02:03.0");
  });
});
