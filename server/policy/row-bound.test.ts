import { describe, expect, it } from "vitest";
import { classifySql } from "./classify-statement";

async function bound(sql: string) {
  const { statements } = await classifySql(sql);
  return statements[0]?.maxRows;
}

describe("rowBound", () => {
  it.each([
    ["a SELECT of constants", "select 1 as one", 1],
    ["typed constants", "select 'a'::text as a, 2::int8, null", 1],
    ["a constant LIMIT", "select * from orders limit 10", 10],
    ["LIMIT 0", "select * from orders limit 0", 0],
    ["LIMIT with OFFSET", "select * from orders limit 5 offset 100", 5],
    ["FETCH FIRST n ROWS ONLY", "select * from orders fetch first 7 rows only", 7],
    ["a LIMIT over a UNION", "select id from a union select id from b limit 3", 3],
    ["a VALUES list", "values (1), (2), (3)", 3],
    ["SHOW of one setting", "show work_mem", 1],
  ])("proves %s", async (_what, sql, expected) => {
    expect(await bound(sql)).toBe(expected);
  });

  it.each([
    ["no LIMIT", "select * from orders"],
    ["LIMIT ALL", "select * from orders limit all"],
    ["a LIMIT expression", "select * from orders limit 1 + 1"],
    ["a LIMIT parameter", "select * from orders limit $1"],
    ["a non-integer LIMIT", "select * from orders limit 2.5"],
    ["a LIMIT beyond 32 bits", "select * from orders limit 3000000000"],
    ["WITH TIES", "select * from orders order by total fetch first 5 rows with ties"],
    ["a function call (it may return a set)", "select generate_series(1, 10)"],
    ["an operator (a set-returning function may implement it)", "select 1 + 1"],
    ["a sub-select", "select (select 1)"],
    ["GROUP BY GROUPING SETS without FROM", "select 1 group by grouping sets ((), ())"],
    ["a UNION without LIMIT", "select 1 union all select 2"],
    ["SHOW ALL", "show all"],
    ["EXPLAIN", "explain select 1"],
    ["a write", "delete from orders"],
  ])("proves nothing for %s", async (_what, sql) => {
    expect(await bound(sql)).toBeUndefined();
  });

  it("bounds each statement of an input on its own", async () => {
    const { statements } = await classifySql("select 1; select * from t; select * from t limit 4");
    expect(statements.map((s) => s.maxRows)).toEqual([1, undefined, 4]);
  });
});
