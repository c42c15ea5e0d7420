import { describe, expect, it } from "vitest";
import { runsAsImplicitTransaction, runsAsImplicitTransactionByScan } from "./implicit-transaction";

describe("runsAsImplicitTransaction", () => {
  it.each<[string, boolean]>([
    ["select 1", false],
    ["select 1;", false],
    ["select 1; \t\r\n\f", false],
    ["SELECT abalance FROM pgbench_accounts WHERE aid = 42;", false],
    ["select 1;\vselect 2", true],
    ["select 1;\u00a0select 2", true],
    ["select 1;select 2", true],
    ["select 1;select 2;", true],
    ["select 1; select 2;\n", true],
    ["select 1;;", false],
    ["select ';' ;", false],
    ["select 1 -- a comment; with a semicolon\n; select 2", true],
    ["select 1; -- only a comment after", false],
    ["insert into t values (1); select 2", true],
    ["select ';'; select 2", true],
    ["select $$a; b$$", false],
    ["begin; insert into t values (1); commit", false],
    ["insert into t values (1); COMMIT", false],
    ["savepoint a; select 1", false],
    ["/* c */ select 1; /* d */ select 2;", true],
    ["create function f() returns int language sql begin atomic select 1; end", false],
  ])("%s: %s", async (text, expected) => {
    expect(await runsAsImplicitTransaction(text)).toBe(expected);
  });
});

describe("the closing-semicolon shortcut", () => {
  // Every text of up to three of these pieces: the shortcut must answer as the scanner does, whatever the
  // literals, comments and whitespace around the semicolons.
  const pieces = [
    "select 1",
    ";",
    " ",
    "\n",
    "\t",
    "\f",
    "\v",
    "\u00a0",
    "\ufeff",
    "'a;b'",
    "$$;$$",
    "-- c;\n",
    "/* ; */",
    "commit",
    '";"',
    "E'\\';'",
  ];
  const texts: string[] = [];
  for (const a of pieces)
    for (const b of pieces) {
      texts.push(a + b);
      for (const c of pieces) texts.push(a + b + c, `select 1${a}${b}${c}`);
    }

  it(`answers as the scanner does for ${texts.length} texts`, async () => {
    const differ: string[] = [];
    for (const text of texts)
      if ((await runsAsImplicitTransaction(text)) !== (await runsAsImplicitTransactionByScan(text)))
        differ.push(text);
    expect(differ).toEqual([]);
  });
});
