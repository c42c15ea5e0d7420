import { describe, expect, it } from "vitest";
import { parseDecidedPayload } from "./decisions";

describe("a review-decided NOTIFY payload", () => {
  const good = { origin: "o", reviewId: "r", sessionId: "s", state: "approved" };
  it("is read when it has an origin, a review, a session and a decided state", () => {
    expect(parseDecidedPayload(JSON.stringify(good))).toEqual(good);
  });
  it.each([
    ["not JSON", "approved"],
    ["JSON that is not an object", "42"],
    ["null", "null"],
    ["no origin", JSON.stringify({ ...good, origin: undefined })],
    ["a review id that is not a string", JSON.stringify({ ...good, reviewId: 7 })],
    ["no session", JSON.stringify({ ...good, sessionId: null })],
    ["a state that is not a decision (executed)", JSON.stringify({ ...good, state: "executed" })],
    ["a state that is not a decision (pending)", JSON.stringify({ ...good, state: "pending" })],
    ["no state", JSON.stringify({ ...good, state: undefined })],
  ])("is ignored when it is %s", (_, payload) => {
    expect(parseDecidedPayload(payload)).toBeUndefined();
  });
});
