// The worker wire format: lists joined into one string come back as they were, and a list that a value's own
// NUL would split wrongly is refused (the chunk is then masked on the main thread) instead of misaligned.
import { describe, expect, it } from "vitest";
import { decodeMasked, decodeValues, encodeMasked, encodeValues } from "./chunk-wire";

describe("chunk wire format", () => {
  it("gives back the values, empty strings and an empty list included", () => {
    for (const values of [[], [""], ["a", "", "b"], ["j***@example.com", "+1 (555) ***-**67", "x,y"]])
      expect(decodeValues(encodeValues(values), values.length)).toEqual(values);
  });

  it("refuses a list whose count does not match (a value holding NUL)", () => {
    const values = ["before\u0000after", "next"];
    expect(() => decodeValues(encodeValues(values), values.length)).toThrow(/2 values arrived as 3/);
  });

  it("gives back a masked chunk: indexes, values and each value's types", () => {
    const chunk = {
      changed: Int32Array.from([0, 3, 7]),
      shown: ["[EMAIL]", "", "4111 **** **** 1111"],
      types: [["email"], ["phone", "us_ssn"], ["credit_card"]],
    };
    const back = decodeMasked(encodeMasked(chunk));
    expect(Array.from(back.changed)).toEqual([0, 3, 7]);
    expect(back.shown).toEqual(chunk.shown);
    expect(back.types).toEqual(chunk.types);
    expect(decodeMasked(encodeMasked({ changed: new Int32Array(0), shown: [], types: [] }))).toMatchObject({
      shown: [],
      types: [],
    });
  });
});
