import { describe, expect, it } from "vitest";
import { judge, PROPOSE_MIN_VALUES, typesIn } from "./judge";

describe("judging a column from counts", () => {
  it.each([
    ["mostly cards", 10, { credit_card: 9 }, "credit_card", 0.9, true],
    ["exactly half", 10, { email: 5 }, "email", 0.5, true],
    ["a few cards among free text", 10, { credit_card: 3 }, "credit_card", 0.3, false],
    ["too few values to prove anything", 2, { credit_card: 2 }, "credit_card", 1, false],
    ["two types, the larger wins", 10, { email: 2, phone: 7 }, "phone", 0.7, true],
    ["nothing found", 10, {}, null, 0, false],
    ["no values", 0, {}, null, 0, false],
  ])("%s", (_what, values, counts, type, confidence, isProposal) => {
    expect(judge(values, counts)).toEqual({ detectedType: type, confidence, isProposal });
  });

  it("names the minimum a proposal needs", () => {
    expect(judge(PROPOSE_MIN_VALUES, { email: PROPOSE_MIN_VALUES }).isProposal).toBe(true);
    expect(judge(PROPOSE_MIN_VALUES - 1, { email: PROPOSE_MIN_VALUES - 1 }).isProposal).toBe(false);
  });
});

describe("types in one value", () => {
  it.each([
    ["4111 1111 1111 1111", "note", ["credit_card"]],
    ["grace.hopper@navy.example.com", "contact", ["email"]],
    ["Widget 12", "title", []],
    [null, "x", []],
    [true, "x", []],
  ])("finds %s in a %s column as %j", (value, column, types) => {
    expect(typesIn(value, column)).toEqual(types);
  });

  it("never uses a column rule: a password column's value is judged by what it holds", () => {
    expect(typesIn("Widget 12", "password")).toEqual([]);
  });
});
