// The recorder's paths on the embedded store (./simple-query.ts) against PGlite's own `exec`, on a real in-memory
// PGlite: the same rows for the same statements (types parsed by PGlite's parsers), errors with PostgreSQL's fields,
// a failing message rolled back whole, and PGlite's locks respected (a query never lands inside another caller's
// open transaction). The bound path (prepared statements run by name, values as parameters) likewise, and its
// values stored byte for byte whatever they hold.
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundMessage, boundQueryOn, queryMessage, readReply, simpleQueryOn } from "./simple-query";

let pglite: PGlite;

beforeAll(async () => {
  pglite = await PGlite.create();
  await pglite.exec(`create table kept (id bigserial primary key, n int check (n >= 0), label text unique,
    data jsonb, at timestamptz, ok boolean, big int8, amount numeric)`);
  await pglite.exec(`prepare keep(int, text, jsonb) as insert into kept (n, label, data) values ($1, $2, $3)
      returning n, label, data;
    prepare echo(text, int8, numeric, timestamptz, boolean, jsonb) as
      select $1 as t, $2 as big, $3 as amount, $4 as at, $5 as ok, $6 as j, null::text as nothing`);
}, 60_000);

afterAll(async () => {
  await pglite.close();
});

describe("simpleQueryOn gives the rows exec gives", () => {
  const cases: [string, string][] = [
    ["one value", "select 1 as one"],
    ["no rows", "select 1 as one where false"],
    ["a null", "select null::text as nothing"],
    ["text with quotes, backslashes and accents", `select 'it''s \\ façade ✓' as t`],
    [
      "jsonb, a timestamp, a boolean, int8 and numeric",
      `select '{"b":[1,2],"a":null}'::jsonb as j,
      '2001-02-03 04:05:06.789+00'::timestamptz as at, true as ok, 9007199254740993::int8 as big,
      12.50::numeric as amount`,
    ],
    ["a write returning its id", "insert into kept (n, label) values (1, 'first') returning id, n, label"],
    ["several statements", "select 1 as a; select 'two' as b, 3 as c; insert into kept (n) values (2)"],
    ["an empty statement", ";"],
    ["a command without rows", "create temporary table if not exists scratch (x int)"],
  ];
  it.each(cases)("%s", async (_, sql) => {
    const simple = await simpleQueryOn(pglite, sql);
    const exec = await pglite.exec(sql.replace("'first'", "'second'").replace("values (2)", "values (3)"));
    // what differs is the id a sequence handed out and the label written: compare the shape and the rest
    const shape = (rows: unknown[][]) =>
      JSON.stringify(rows, (key, value) =>
        key === "id" || key === "label" ? typeof value : typeof value === "bigint" ? `${value}n` : value,
      );
    expect(shape(simple.map((r) => r.rows))).toBe(shape(exec.map((r) => r.rows)));
    expect(simple).toHaveLength(exec.length);
  });
});

describe("simpleQueryOn fails as PGlite does", () => {
  it("throws PostgreSQL's fields (code, constraint, table) with the message", async () => {
    await pglite.exec("insert into kept (n, label) values (5, 'taken')");
    const err = await simpleQueryOn(pglite, "insert into kept (n, label) values (6, 'taken')").catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: "23505",
      constraint: "kept_label_key",
      table: "kept",
      severity: "ERROR",
    });
    expect(err.message).toMatch(/duplicate key/);
  });

  it("rolls back every statement of a message when one fails (one implicit transaction)", async () => {
    await expect(
      simpleQueryOn(
        pglite,
        "insert into kept (n, label) values (7, 'rolled'); insert into kept (n) values (-1)",
      ),
    ).rejects.toMatchObject({ code: "23514" });
    const { rows } = await pglite.query("select count(*)::int as n from kept where label = 'rolled'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("refuses a query holding a NUL character before sending anything", () => {
    expect(() => queryMessage("select 'a\u0000b'")).toThrow(/NUL/);
  });

  it("refuses a reply that ends inside a message or before ReadyForQuery", () => {
    const parse = (value: string) => value;
    const ready = Uint8Array.from([0x5a, 0, 0, 0, 5, 0x49]);
    expect(readReply(ready, parse)).toEqual([]);
    expect(() => readReply(ready.subarray(0, 4), parse)).toThrow(/ends inside/);
    expect(() => readReply(Uint8Array.from([0x43, 0, 0, 0, 8, 0x53, 0x45, 0x4c, 0]), parse)).toThrow(
      /before it was ready/,
    );
  });
});

describe("simpleQueryOn and PGlite's locks", () => {
  it("waits for another caller's open transaction instead of running inside it", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const transaction = pglite.transaction(async (tx) => {
      await tx.query("insert into kept (n, label) values (8, 'in the transaction')");
      inside();
      await held;
      throw new Error("rolled back on purpose");
    });
    await opened;
    let ran = false;
    const query = simpleQueryOn(
      pglite,
      "insert into kept (n, label) values (9, 'outside') returning id",
    ).then((r) => {
      ran = true;
      return r;
    });
    // a few turns of the event loop: a query that ignored the lock would have run by now (nothing it does waits)
    for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
    expect(ran).toBe(false); // still waiting: it would otherwise have been rolled back with the transaction
    release();
    await expect(transaction).rejects.toThrow(/on purpose/);
    await query;
    const { rows } = await pglite.query<{ label: string }>(
      "select label from kept where label in ('in the transaction', 'outside')",
    );
    expect(rows).toEqual([{ label: "outside" }]);
  });
});

describe("boundQueryOn runs prepared statements by name with their values bound", () => {
  const cases: [string, unknown[]][] = [
    ["plain values", ["plain", 42, "12.50", "2001-02-03 04:05:06.789+00", true, '{"b":[1,2],"a":null}']],
    ["nulls", [null, null, null, null, null, null]],
    [
      "quotes, backslashes, accents and SQL",
      [
        "it's \\ façade ✓'); drop table kept; --",
        9007199254740993n,
        "-0.5",
        "infinity",
        false,
        '"\\u00e9 \\\\ \\""',
      ],
    ],
  ];
  it.each(cases)("gives the rows EXECUTE with literals gives: %s", async (_, values) => {
    const text = values.map((v) => (v === null ? null : String(v)));
    const [bound] = await boundQueryOn(pglite, [{ name: "echo", values: text }]);
    const literals = text.map((v) => (v === null ? "null" : `'${v.replaceAll("'", "''")}'`)).join(", ");
    const [executed] = await pglite.exec(`execute echo(${literals})`);
    expect(bound?.rows).toEqual(executed?.rows);
    expect(bound?.rows).toHaveLength(1);
  });

  it("stores a 256 KiB value holding quotes, backslashes, line ends and any text byte for byte", async () => {
    const piece = `line "quoted" it's \\ \r\n\t tab ✓ 😀 \u2028 ${"x".repeat(50)}\r\n`;
    const value = piece.repeat(Math.ceil(262_144 / piece.length)).slice(0, 262_144);
    const json = JSON.stringify({ data: value });
    const [result] = await boundQueryOn(pglite, [{ name: "keep", values: [1, "bulk", json] }]);
    expect(result?.rows).toEqual([{ n: 1, label: "bulk", data: { data: value } }]);
    const { rows } = await pglite.query<{ same: boolean }>(
      "select data->>'data' = $1 as same from kept where label = 'bulk'",
      [value],
    );
    expect(rows).toEqual([{ same: true }]);
  });

  it("runs every call of a message in one transaction: when one fails, none is kept", async () => {
    const calls = [
      { name: "keep", values: [10, "first of the batch", "{}"] },
      { name: "keep", values: [11, "second of the batch", "{}"] },
      { name: "keep", values: [-1, "refused by the check", "{}"] },
    ];
    await expect(boundQueryOn(pglite, calls)).rejects.toMatchObject({ code: "23514" });
    const { rows } = await pglite.query(
      "select count(*)::int as n from kept where label like '%of the batch'",
    );
    expect(rows).toEqual([{ n: 0 }]);
    // and the session goes on: the same calls without the bad one are all kept, each with its own rows
    const kept = await boundQueryOn(pglite, calls.slice(0, 2));
    expect(kept.map((r) => r.rows)).toEqual([
      [{ n: 10, label: "first of the batch", data: {} }],
      [{ n: 11, label: "second of the batch", data: {} }],
    ]);
  });

  it("throws a missing statement's SQLSTATE (26000), which db/prepared.ts prepares again on", async () => {
    await expect(boundQueryOn(pglite, [{ name: "never_prepared", values: [] }])).rejects.toMatchObject({
      code: "26000",
    });
  });

  it("refuses a NUL character or a number that is not finite before anything is sent", () => {
    expect(() => boundMessage([{ name: "keep", values: [1, "a\u0000b", "{}"] }])).toThrow(/NUL/);
    expect(() => boundMessage([{ name: "keep", values: [Number.NaN, "a", "{}"] }])).toThrow(/finite/);
    expect(() => boundMessage([{ name: "ke\u0000ep", values: [] }])).toThrow(/NUL/);
  });

  it("waits for another caller's open transaction instead of running inside it", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const transaction = pglite.transaction(async (tx) => {
      await tx.query("insert into kept (n, label) values (12, 'bound: in the transaction')");
      inside();
      await held;
      throw new Error("rolled back on purpose");
    });
    await opened;
    let ran = false;
    const query = boundQueryOn(pglite, [{ name: "keep", values: [13, "bound: outside", "{}"] }]).then((r) => {
      ran = true;
      return r;
    });
    for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
    expect(ran).toBe(false);
    release();
    await expect(transaction).rejects.toThrow(/on purpose/);
    await query;
    const { rows } = await pglite.query<{ label: string }>(
      "select label from kept where label like 'bound: %' order by label",
    );
    expect(rows).toEqual([{ label: "bound: outside" }]);
  });
});
