// The parser's answers remembered by exact text (parser.ts, decision 0020): a remembered answer is the same
// classification as a fresh parse, every caller gets its own tree, a scope never answers for another, and the
// cache is bounded.
import { describe, expect, it } from "vitest";
import { classifySql } from "./classify-statement";
import { encoder, loadParser, PARSE_CACHE_ENTRIES, parseBytes, parseCached, parseStats } from "./parser";

let scopes = 0;
/** A scope no other test uses, so what it remembers is this test's alone. */
const newScope = () => `test-scope-${++scopes}`;

describe("the parse cache", () => {
  it.each([
    "select 1",
    "select id, name from customers where id = 42;",
    "update orders set amount = 0 where id = 2",
    "drop table customers",
    "begin; select 1; commit",
    "select pg_read_file('/etc/passwd')",
    "select from where",
    "select 'unterminated",
    "copy (select 1) to stdout",
  ])("classifies %j the same from the cache as from a fresh parse", async (input) => {
    const scope = newScope();
    const fresh = await classifySql(input);
    const first = await classifySql(input, { parseCacheScope: scope });
    const parsed = parseStats.parsed;
    const remembered = await classifySql(input, { parseCacheScope: scope });
    expect(parseStats.parsed).toBe(parsed);
    expect(first).toEqual(fresh);
    expect(remembered).toEqual(fresh);
  });

  it("hands every caller a tree of its own: a change to one does not reach the next", async () => {
    const instance = await loadParser();
    const input = "select a, b from t where c = 1";
    const bytes = encoder.encode(input);
    const scope = newScope();
    const pristine = parseBytes(instance, bytes);
    const first = parseCached(instance, input, bytes, scope);
    if (!first.ok) throw new Error("expected a tree");
    (first.tree as { stmts: unknown[] }).stmts.length = 0;
    (first.tree as unknown as { version: number }).version = -1;
    expect(parseCached(instance, input, bytes, scope)).toEqual(pristine);
  });

  it("remembers a parse error with its position, and a change to it does not reach the next caller", async () => {
    const instance = await loadParser();
    const input = "select from where";
    const bytes = encoder.encode(input);
    const scope = newScope();
    const first = parseCached(instance, input, bytes, scope);
    expect(first).toEqual(parseBytes(instance, bytes));
    if (first.ok) throw new Error("expected an error");
    first.message = "changed";
    const again = parseCached(instance, input, bytes, scope);
    expect(again.ok === false && again.message).toBe('syntax error at or near "where"');
  });

  it("answers a text only within the scope that parsed it", async () => {
    const input = "select 'scoped' as s";
    await classifySql(input, { parseCacheScope: newScope() });
    const parsed = parseStats.parsed;
    await classifySql(input, { parseCacheScope: newScope() });
    expect(parseStats.parsed).toBe(parsed + 1);
  });

  it("parses every time without a scope, and never keeps a long text", async () => {
    const scope = newScope();
    const long = `select ${"1 + ".repeat(1100)}1`;
    for (const [input, options] of [
      ["select 'no scope'", {}],
      [long, { parseCacheScope: scope }],
    ] as const) {
      await classifySql(input, options);
      const parsed = parseStats.parsed;
      await classifySql(input, options);
      expect(parseStats.parsed, input.slice(0, 20)).toBe(parsed + 1);
    }
  });

  it("keeps at most its bound of texts, dropping the least recently used first", async () => {
    const scope = newScope();
    await classifySql("select 'oldest'", { parseCacheScope: scope });
    await classifySql("select 'kept'", { parseCacheScope: scope });
    for (let i = 0; i < PARSE_CACHE_ENTRIES - 2; i++) {
      await classifySql(`select ${i}`, { parseCacheScope: scope });
      if (i === 10) await classifySql("select 'kept'", { parseCacheScope: scope }); // used again: now recent
    }
    await classifySql("select 'one more'", { parseCacheScope: scope });
    const parsed = parseStats.parsed;
    await classifySql("select 'kept'", { parseCacheScope: scope });
    expect(parseStats.parsed).toBe(parsed);
    await classifySql("select 'oldest'", { parseCacheScope: scope });
    expect(parseStats.parsed).toBe(parsed + 1);
  });
});
