import { describe, expect, it } from "vitest";
import { runsAsImplicitTransaction } from "./implicit-transaction";

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
