import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { highlightSql, type SqlTokenKind } from "./highlight-sql";

const kinds = (text: string) =>
  highlightSql(text)
    .filter((t) => t.kind !== "plain")
    .map((t) => [t.kind, t.text]);

describe("highlightSql", () => {
  it.each<[string, [SqlTokenKind, string][]]>([
    [
      "DELETE FROM orders WHERE id = 1",
      [
        ["keyword", "DELETE"],
        ["keyword", "FROM"],
        ["keyword", "WHERE"],
        ["number", "1"],
      ],
    ],
    [
      "select 'it''s -- not a comment'",
      [
        ["keyword", "select"],
        ["string", "'it''s -- not a comment'"],
      ],
    ],
    [
      "select 1 -- drop table x\n",
      [
        ["keyword", "select"],
        ["number", "1"],
        ["comment", "-- drop table x"],
      ],
    ],
    [
      "/* a /* nested */ drop */ select",
      [
        ["comment", "/* a /* nested */ drop */"],
        ["keyword", "select"],
      ],
    ],
    [
      "select $fn$ drop table t $fn$",
      [
        ["keyword", "select"],
        ["string", "$fn$ drop table t $fn$"],
      ],
    ],
    [
      "select E'a\\'b' from \"Order Items\"",
      [
        ["keyword", "select"],
        ["string", "E'a\\'b'"],
        ["keyword", "from"],
        ["identifier", '"Order Items"'],
      ],
    ],
    [
      "select 1.5e3, .5",
      [
        ["keyword", "select"],
        ["number", "1.5e3"],
        ["number", ".5"],
      ],
    ],
    [
      "update t set n = $1",
      [
        ["keyword", "update"],
        ["keyword", "set"],
      ],
    ],
  ])("tokenizes %j", (input, expected) => {
    expect(kinds(input)).toEqual(expected);
  });

  it("keeps unterminated strings and comments to the end instead of dropping text", () => {
    expect(kinds("select 'open")).toEqual([
      ["keyword", "select"],
      ["string", "'open"],
    ]);
    expect(kinds("/* open")).toEqual([["comment", "/* open"]]);
  });

  it("never changes a character: the tokens join back to the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."selct fromw'\"$-/*\\\nE1.e_ab9") }), (text) => {
        expect(
          highlightSql(text)
            .map((t) => t.text)
            .join(""),
        ).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});
