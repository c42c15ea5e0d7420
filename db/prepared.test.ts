// Prepared statements on the embedded store: arguments written as SQL literals come back exactly as given (any
// text, quotes and backslashes included), a statement deallocated behind our back is prepared again, and what
// cannot be written as a literal is refused. A real in-memory PGlite.
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PreparedStatement, runPrepared, runPreparedBatch, sqlLiteral } from "./prepared";
import type { Db, Store } from "./store";

let pglite: PGlite;
let store: Store;

const ECHO: PreparedStatement = {
  name: "test_echo_v1",
  types: ["text", "int", "jsonb"],
  text: "select $1::text as t, $2::int + 1 as n, $3::jsonb as j",
};

beforeAll(async () => {
  pglite = await PGlite.create();
  store = { db: drizzle(pglite) as unknown as Db, kind: "pglite", pglite, close: () => pglite.close() };
  await pglite.exec("create table kept (n int check (n >= 0))");
}, 60_000);

afterAll(async () => {
  await pglite.close();
});

describe("runPrepared on PGlite", () => {
  it("returns every text argument exactly, whatever it holds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "binary" }).filter((s) => !s.includes("\u0000")),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.jsonValue(),
        async (text, n, json) => {
          const [row] = await runPrepared<{ t: string; n: number; j: unknown }>(store, ECHO, [
            text,
            n,
            JSON.stringify(json),
          ]);
          expect(row).toEqual({ t: text, n: n + 1, j: JSON.parse(JSON.stringify(json)) });
        },
      ),
      { numRuns: 300 },
    );
    for (const tricky of ["'", "''); drop table x; --", "\\", "\\'", "E'\\n'", "$1", "😀 é 身份证"]) {
      const [row] = await runPrepared<{ t: string }>(store, ECHO, [tricky, 0, "{}"]);
      expect(row?.t).toBe(tricky);
    }
  });

  it("prepares again a statement deallocated by another user of the session", async () => {
    await runPrepared(store, ECHO, ["a", 1, "null"]);
    await pglite.exec("deallocate all");
    const [row] = await runPrepared<{ t: string }>(store, ECHO, ["b", 1, "null"]);
    expect(row?.t).toBe("b");
  });

  it("refuses arguments it cannot write as literals, and a wrong number of them", async () => {
    expect(() => sqlLiteral("a\u0000b")).toThrow(/NUL/);
    expect(() => sqlLiteral(Number.NaN)).toThrow(/finite/);
    expect(sqlLiteral(null)).toBe("NULL");
    await expect(runPrepared(store, ECHO, ["a", 1])).rejects.toThrow(/takes 3 arguments/);
  });
});

const KEEP: PreparedStatement = {
  name: "test_keep_v1",
  types: ["int"],
  text: "insert into kept values ($1::int) returning n",
};

describe("runPreparedBatch on PGlite", () => {
  it("returns each call's rows in order, literals exactly as given", async () => {
    const results = await runPreparedBatch<{ t?: string; n: number }>(store, [
      { statement: ECHO, values: ["it's", 1, '{"a":"\\\\"}'] },
      { statement: KEEP, values: [7] },
      { statement: ECHO, values: ["$1; commit; --", 2, "null"] },
    ]);
    expect(results).toEqual([
      [{ t: "it's", n: 2, j: { a: "\\" } }],
      [{ n: 7 }],
      [{ t: "$1; commit; --", n: 3, j: null }],
    ]);
  });

  it("keeps nothing of a batch when one call fails, and leaves no transaction open", async () => {
    await pglite.exec("delete from kept");
    await expect(
      runPreparedBatch(store, [
        { statement: KEEP, values: [1] },
        { statement: KEEP, values: [-1] },
        { statement: KEEP, values: [2] },
      ]),
    ).rejects.toMatchObject({ code: "23514" });
    expect((await pglite.query("select count(*)::int as n from kept")).rows).toEqual([{ n: 0 }]);
    expect(pglite.isInTransaction()).toBe(false);
    await runPreparedBatch(store, [{ statement: KEEP, values: [3] }]);
    expect((await pglite.query("select n from kept")).rows).toEqual([{ n: 3 }]);
  });

  it("prepares again statements deallocated by another user of the session", async () => {
    await runPreparedBatch(store, [{ statement: KEEP, values: [4] }]);
    await pglite.exec("deallocate all");
    const results = await runPreparedBatch<{ n: number }>(store, [
      { statement: KEEP, values: [5] },
      { statement: KEEP, values: [6] },
    ]);
    expect(results).toEqual([[{ n: 5 }], [{ n: 6 }]]);
  });
});
