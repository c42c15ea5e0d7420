import { describe, expect, it } from "vitest";
import { preferredWaitSeconds, withPreferenceApplied } from "./prefer";

const withPrefer = (value: string) => new Request("http://gateway/", { headers: { prefer: value } });

describe("Prefer: wait", () => {
  it.each([
    ["wait=10", 10],
    ["WAIT=5", 5],
    ['wait="7"', 7],
    ["respond-async, wait=20", 20],
    ["handling=lenient; x=1, wait=3", 3],
    ["wait=600", 60],
  ])("reads %s as %s seconds (at most 60)", (header, seconds) => {
    expect(preferredWaitSeconds(withPrefer(header))).toBe(seconds);
  });

  it.each(["wait=0", "wait=-1", "wait=soon", "wait", "return=minimal"])("ignores %s", (header) => {
    expect(preferredWaitSeconds(withPrefer(header))).toBeUndefined();
  });

  it("echoes Preference-Applied only when a wait was honoured", () => {
    expect(withPreferenceApplied(Response.json({}), 30).headers.get("preference-applied")).toBe("wait=30");
    expect(withPreferenceApplied(Response.json({}), undefined).headers.get("preference-applied")).toBeNull();
  });
});
