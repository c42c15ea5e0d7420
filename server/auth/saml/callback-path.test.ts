import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "./callback-path";

describe("the path a SAML sign-in lands on", () => {
  it.each([
    ["/connections", "/connections"],
    ["/sessions?user=ana&page=2", "/sessions?user=ana&page=2"],
    ["/", "/"],
  ])("keeps the console path %j", (value, expected) => {
    expect(safeCallbackPath(value)).toBe(expected);
  });

  it.each([
    ["another site", "https://evil.example/"],
    ["a protocol-relative URL", "//evil.example"],
    ["a backslash a browser reads as a slash", "/\\evil.example"],
    ["a tab a browser drops", "/\t/evil.example"],
    ["a newline a browser drops", "/\n/evil.example"],
    ["a space", "/ /evil.example"],
    ["a javascript URL", "javascript:alert(1)"],
    ["non-ASCII", "/ｅvil"],
    ["nothing", ""],
    ["something very long", `/${"a".repeat(600)}`],
  ])("turns %s into /", (_name, value) => {
    expect(safeCallbackPath(value)).toBe("/");
  });
});
