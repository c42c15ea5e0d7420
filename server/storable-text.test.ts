import { describe, expect, it } from "vitest";
import { escapeUnstorable, findUnstorableText, unstorableTextProblem } from "./storable-text";

describe("unstorableTextProblem", () => {
  it.each<[string, string, RegExp | undefined]>([
    ["plain text", "select 1", undefined],
    ["a character outside the BMP (a surrogate pair)", "select '💥'", undefined],
    ["other control characters", "a\tb\u0001c", undefined],
    ["a NUL", "select 1\u0000", /NUL/],
    ["a lone high surrogate", "a\ud83d", /surrogate/],
    ["a lone low surrogate", "\udca5b", /surrogate/],
    ["a reversed pair", "\udca5\ud83d", /surrogate/],
  ])("%s", (_name, text, problem) => {
    const found = unstorableTextProblem(text);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

describe("escapeUnstorable", () => {
  it("writes NUL and lone surrogates as \\u escapes and keeps everything else", () => {
    expect(escapeUnstorable("a\u0000b\ud800c💥\u0000")).toBe("a\\u0000b\\ud800c💥\\u0000");
    expect(unstorableTextProblem(escapeUnstorable("\u0000\udfff"))).toBeUndefined();
  });
});

describe("findUnstorableText", () => {
  it.each<[string, unknown, string | undefined]>([
    ["a clean body", { name: "a", groups: ["x"], n: 1, ok: true, none: null }, undefined],
    ["a top-level field", { name: "a\u0000" }, "name"],
    ["a nested field", { approvals: { approverGroups: ["ok", "b\ud800"] } }, "approvals.approverGroups[1]"],
    ["a field name", { "na\u0000me": "x" }, "(body)"],
    ["a bare string body", "\u0000", ""],
  ])("%s", (_name, body, path) => {
    expect(findUnstorableText(body)?.path).toBe(path);
  });

  it("leaves top-level fields the handler checks itself, and only those", () => {
    expect(findUnstorableText({ input: "select \u0000" }, ["input"])).toBeUndefined();
    expect(findUnstorableText({ input: "ok", note: "\u0000" }, ["input"])?.path).toBe("note");
    expect(findUnstorableText({ nested: { input: "\u0000" } }, ["input"])?.path).toBe("nested.input");
  });
});
