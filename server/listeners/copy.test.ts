import { describe, expect, it } from "vitest";
import { copyCommand, copyRow } from "./copy";

describe("copyCommand", () => {
  it.each<[string, unknown]>([
    ["select 1", undefined],
    ["copy t to stdout", { direction: "out", select: 'SELECT * FROM ONLY "t"' }],
    ['COPY s.t (a, "B") TO STDOUT', { direction: "out", select: 'SELECT "a", "B" FROM ONLY "s"."t"' }],
    ["/* why */ copy (select ')' from t) to stdout", { direction: "out", select: "select ')' from t" }],
    ["copy ( select $$)$$ /* ) */ ) to stdout", { direction: "out", select: " select $$)$$ /* ) */ " }],
    // a quote in a table's name stays inside its identifier: no statement is smuggled into the SELECT
    [
      'copy "x"" from pg_authid; --" to stdout',
      { direction: "out", select: 'SELECT * FROM ONLY "x"" from pg_authid; --"' },
    ],
    ["copy t to '/tmp/x'", undefined],
    ["copy t from program 'id'", undefined],
    ["copy t to stdout; select 1", undefined],
    ["copy t to", undefined],
    ["copy t (a) from stdin", { direction: "in", columns: 1, binary: false }],
    // COPY FROM STDIN's options are the target's: passed as they are, FORMAT binary answered in binary
    ["copy t from stdin with (format binary)", { direction: "in", columns: 0, binary: true }],
    ["copy t (a, b) from stdin with (force_null (a), encoding 'latin1')", { direction: "in", columns: 2 }],
    ["copy t from stdin where a > 1", { direction: "in", columns: 0, binary: false }],
    ["copy t to stdout with (format binary)", { refused: expect.stringMatching(/binary/) }],
    ["copy t to stdout with (force_quote *)", { refused: expect.stringMatching(/FORCE_QUOTE/) }],
    ["copy t to stdout with (delimiter 'ab')", { refused: expect.stringMatching(/single/) }],
  ])("reads %s", async (text, expected) => {
    const command = await copyCommand(text);
    if (expected === undefined) expect(command).toBeUndefined();
    else expect(command).toMatchObject(expected as object);
  });
});

describe("copyRow", () => {
  const text = { csv: false, delimiter: "\t", null: "\\N", header: false, quote: '"', escape: '"' };
  const csv = { ...text, csv: true, delimiter: ",", null: "" };
  it.each<[string, (string | null)[], typeof text, string]>([
    ["escapes text's specials", ["a\tb", "c\nd", "e\\f", null], text, "a\\tb\tc\\nd\te\\\\f\t\\N\n"],
    [
      "quotes CSV where needed",
      ["x,y", 'say "hi"', "", null, "plain"],
      csv,
      '"x,y","say ""hi""","",,plain\n',
    ],
    ["quotes a lone \\. in CSV only as a single value", ["\\."], csv, '"\\."\n'],
    ["leaves \\. among others unquoted", ["\\.", "a"], csv, "\\.,a\n"],
  ])("%s", (_what, values, format, expected) => {
    expect(copyRow(values, format)).toBe(expected);
  });
});
