// nextRunStart finds the positions the regular expression it replaced found, from any start, in any text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextRunStart } from "./numeric";

/** What scanNumeric used before session 9: the next match of this expression from `from`. */
function regexRunStart(s: string, from: number): number {
  const re = /\d[\d ()./-]{2,}[\d)]/g;
  re.lastIndex = from;
  return re.exec(s)?.index ?? -1;
}

describe("nextRunStart", () => {
  it.each([
    ["", 0, -1],
    ["123", 0, -1],
    ["1234", 0, 0],
    ["12-)", 0, 0],
    ["1-- ", 0, -1],
    ["ab 1 2 3", 0, 3],
    ["1..(5", 0, 0],
    ["12a1234", 0, 3],
    ["1234", 1, -1],
    ["(555) 123-4567", 0, 1],
  ])("in %j from %i: %i", (s, from, want) => {
    expect(nextRunStart(s, from)).toBe(want);
    expect(regexRunStart(s, from)).toBe(want);
  });

  it("gives the regular expression's next match for any text and start", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9 ()./\-a+x]{0,30}$/), fc.nat(), (s, cut) => {
        const from = cut % (s.length + 1);
        expect(nextRunStart(s, from)).toBe(regexRunStart(s, from));
      }),
      { numRuns: 5000 },
    );
  });
});
