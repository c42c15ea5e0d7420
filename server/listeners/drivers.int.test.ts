// The drivers services and tools use, through the wire listener, on real parts: the PostgreSQL JDBC driver
// (pgjdbc, what DBeaver, IntelliJ, Metabase and Java services run on) and psycopg2 over libpq (Python's
// scripts, notebooks and ETL jobs), against a real PostgreSQL 15 target. Each driver runs the way its users run
// it: its catalog calls, prepared statements past its server-side threshold, typed parameters, cursors read in
// parts, its own transactions; values masked, denials and holds as SQLSTATEs the driver raises.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import { prepareGateway, startLoopbackListener, stopGateway } from "./approvals.fixture";
import type { PgListener } from "./pg-listener";

const JDBC_JAR = "/usr/share/java/postgresql.jar";
const PROBES = path.join(process.cwd(), "test", "drivers");
const CARD = "4111 1111 1111 1111";
const EMAIL = "grace.hopper@example.com";
const PASSWORD = "hunter2-plain";
const actor = { id: null, label: "test" };

let pgServer: PostgresServer;
let dataDir: string;
let listener: PgListener;
let token: string;

beforeAll(async () => {
  pgServer = await startPostgres();
  const storeUrl = await createDatabase(pgServer.url, "store");
  const targetUrl = await createDatabase(pgServer.url, "shop");
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  await target.unsafe(`
    create table customers (id int primary key, name text, email text, card_number text);
    create index customers_name on customers (name);
    insert into customers values (1, 'Grace', '${EMAIL}', '${CARD}'), (2, 'Alan', 'alan@example.com', null);
    create table orders (id int primary key, customer_id int references customers (id), total numeric);
    insert into orders values (10, 1, 12.50);
    create table notes (id int, body text);
    create view customer_cards as select name, card_number from customers;
    create function order_count(c int) returns bigint language sql stable
      as $$ select count(*) from orders where customer_id = c $$;
    -- masked by lineage only: nothing in the value itself looks secret
    create table accounts (id int primary key, login text, password text);
    insert into accounts values (1, 'grace', '${PASSWORD}');
    -- the same text reads a harmless table or the passwords, by search_path
    create table t (id int, v text);
    insert into t values (1, 'harmless');
    create schema vault;
    create view vault.t as select id, password as v from accounts;
    -- closes the cursor named and opens another under its name, over the passwords
    create function reopen(name text) returns int language plpgsql as $$
      declare r refcursor := name;
      begin close r; open r for select id, login, password from accounts; return 1; end $$;
    -- turns the session's search_path to the passwords' schema for good (set_config's false: not local)
    create function to_vault() returns int language sql as $$
      select 1 from pg_catalog.set_config('search_path', 'vault, public', false) $$;
    -- the same, declared stable: a read to the gateway, run in the read's own message
    create function to_vault_quietly() returns int language sql stable as $$
      select 1 from pg_catalog.set_config('search_path', 'vault, public', false) $$;
    -- an || of someone's making (an extension's, a schema owner's) that answers what the pool's session would
    create function public.poses(text, text) returns text language sql immutable
      as $$ select 'pg_catalog,public temp:false' $$;
    create operator public.|| (leftarg = text, rightarg = text, function = public.poses);
    -- a temporary view over the passwords that shadows t (temporary schemas come first on the path)
    create function shadow_t() returns int language plpgsql as $$
      begin create temporary view t as select id, password as v from accounts; return 1; end $$;`);
  await target.end();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-drivers-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  await prepareGateway({ server: pgServer, name: "shop", database: "shop", group: "analysts" });
  const { createServiceAccount } = await import("@/server/auth");
  token = (await createServiceAccount(actor, { name: "etl-bot", groups: ["analysts"] })).token;
  listener = await startLoopbackListener(dataDir, "http://console.example.test");
});

afterAll(() => stopGateway(listener, pgServer, dataDir));

/** One reply line of a probe: ok with what came back, or the error's SQLSTATE and message. */
interface Reply {
  ok: boolean;
  text: string;
  sqlState?: string;
}

function parseReplies(stdout: string): Reply[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => {
      const [status, a = "", b = ""] = line.split("\t");
      return status === "ok" ? { ok: true, text: a } : { ok: false, sqlState: a, text: b };
    });
}

function runProbe(command: string, args: string[], commands: string[][]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`${command} failed: ${stderr || err.message}`));
        else resolve(parseReplies(stdout));
      },
    );
    child.stdin?.end(`${commands.map((c) => c.join("\t")).join("\n")}\n`);
  });
}

/** pgjdbc through the listener (TLS, sslmode=require); the first reply is the connection's. */
function jdbc(commands: string[][], o: { password?: string; database?: string } = {}) {
  const url = `jdbc:postgresql://127.0.0.1:${listener.port}/${o.database ?? "shop"}?sslmode=require`;
  return runProbe(
    "java",
    ["-cp", JDBC_JAR, path.join(PROBES, "DriverProbe.java"), url, "etl-bot", o.password ?? token],
    commands,
  );
}

/** psycopg2 (libpq) through the listener (TLS, sslmode=require); the first reply is the connection's. */
function psycopg(commands: string[][], o: { password?: string } = {}) {
  const conninfo = `host=127.0.0.1 port=${listener.port} dbname=shop user=etl-bot password=${o.password ?? token} sslmode=require connect_timeout=10`;
  return runProbe("/usr/bin/python3", [path.join(PROBES, "psycopg_probe.py"), conninfo], commands);
}

/** Runs `body` while a rule lets this account write on shop, as one would for a service that may write. */
async function withWrites<T>(body: () => Promise<T>, classes: ("write" | "ddl")[] = ["write"]): Promise<T> {
  const { createRule, deleteRule } = await import("@/server/policy");
  const id = await createRule(actor, {
    name: "etl writes",
    connection: "shop",
    groups: ["analysts"],
    classes,
    action: "allow",
  });
  try {
    return await body();
  } finally {
    await deleteRule(actor, id);
  }
}

/** A read of `t` (id, v) that came back with v masked: the passwords, not the harmless table. */
function expectMaskedRow(reply: Reply | undefined) {
  expect(reply?.text).toMatch(/^rows=1 1\|/);
  expect(reply?.text).not.toBe("rows=1 1|harmless");
}

function expectNoOriginals(replies: Reply[]) {
  const all = replies.map((r) => r.text).join("\n");
  expect(all).not.toContain(CARD);
  expect(all).not.toContain(EMAIL);
  expect(all).not.toContain(PASSWORD);
}

describe("pgjdbc (the JDBC driver DBeaver and Java services use)", () => {
  it("answers the catalog calls tools make on connecting and browsing", async () => {
    const calls = [
      "product",
      "catalogs",
      "schemas",
      "tableTypes",
      "tables",
      "columns",
      "primaryKeys",
      "importedKeys",
      "exportedKeys",
      "indexInfo",
      "typeInfo",
      "functions",
      "tablePrivileges",
      "bestRowIdentifier",
      "udts",
    ];
    const replies = await jdbc(calls.map((c) => ["meta", c]));
    expect(replies[0]).toEqual({ ok: true, text: "connected" });
    const byCall = Object.fromEntries(calls.map((c, i) => [c, replies[i + 1]]));
    for (const c of calls) expect(byCall[c], c).toMatchObject({ ok: true });
    expect(byCall.product?.text).toMatch(/^PostgreSQL 15 /);
    expect(byCall.schemas?.text).toContain("public");
    expect(byCall.tables?.text).toMatch(/customer_cards.*customers.*notes.*orders|customers/);
    for (const t of ["customers", "orders", "notes", "customer_cards"])
      expect(byCall.tables?.text).toContain(t);
    expect(byCall.columns?.text).toBe("rows=4 id,name,email,card_number");
    expect(byCall.primaryKeys?.text).toBe("rows=1 id");
    expect(byCall.importedKeys?.text).toBe("rows=1 customer_id");
    expect(byCall.exportedKeys?.text).toBe("rows=1 orders");
    expect(byCall.indexInfo?.text).toContain("customers_name");
    expect(byCall.functions?.text).toContain("order_count");
    expect(byCall.typeInfo?.text).toMatch(/^rows=\d{2,}/);
  }, 120_000);

  it("runs the queries DBeaver sends on connecting and opening a table", async () => {
    const queries = [
      "SET application_name = 'DBeaver 25.1.5 - Main <shop>'",
      "SELECT current_schema(),session_user",
      "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname",
      "SHOW search_path",
      "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='shop'",
      "SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'",
      "SELECT version()",
      "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description FROM pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')",
      "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr, pg_catalog.pg_get_partkeydef(c.oid) as partition_key FROM pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass WHERE c.relnamespace='public'::regnamespace AND c.relkind not in ('i','I','c')",
      "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size FROM pg_class c WHERE c.relnamespace='public'::regnamespace",
      "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description FROM pg_catalog.pg_constraint c INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass WHERE c.conrelid='public.customers'::regclass ORDER BY c.oid",
      "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size FROM pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid WHERE i.indrelid='public.customers'::regclass ORDER BY tabrelname, c.relname",
      "SELECT * FROM public.customers LIMIT 200",
    ];
    const replies = await jdbc(queries.map((q) => ["prepare", q]));
    expect(replies[0]?.ok).toBe(true);
    for (const [i, q] of queries.entries()) expect(replies[i + 1], q).toMatchObject({ ok: true });
    expect(replies.at(-1)?.text).toMatch(/^rows=2 1\|Grace\|/);
    expectNoOriginals(replies);
  }, 120_000);

  it("masks the rows of a prepared statement before and after pgjdbc makes it a named server statement", async () => {
    const replies = await jdbc([
      ["repeat", "8", "select card_number from customers where id = ?", "1"],
      ["repeat", "8", "select email from customers where id = ?", "1"],
      [
        "repeat",
        "8",
        "select card_number from customer_cards where name = (select name from customers where id = ?)",
        "1",
      ],
    ]);
    expect(replies.slice(1).map((r) => r.ok)).toEqual([true, true, true]);
    for (const r of replies.slice(1)) {
      // Eight runs, one distinct (masked) value: the fifth and later runs (a named statement) mask the same.
      expect(r.text).toMatch(/^runs=8 [^,]+$/);
    }
    expect(replies[1]?.text).toMatch(/1111/);
    expectNoOriginals(replies);
  }, 120_000);

  it("masks a prepared statement by what it reads under the session's search_path (extended protocol)", async () => {
    const replies = await jdbc([
      ["repeat", "2", "select v from t where id = ?", "1"],
      ["query", "set search_path = vault, public"],
      // The same text, parameterized, before and past pgjdbc's switch to a named server statement.
      ["repeat", "7", "select v from t where id = ?", "1"],
      ["query", "set search_path = public"],
      ["repeat", "2", "select v from t where id = ?", "1"],
    ]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true]);
    expect(replies[1]?.text).toBe("runs=2 harmless");
    expect(replies[3]?.text).toMatch(/^runs=7 [^,]+$/);
    expect(replies[5]?.text).toBe("runs=2 harmless");
    expectNoOriginals(replies);
  }, 120_000);

  it("binds parameters of many types with their own setters", async () => {
    const [connected, typed] = await jdbc([["typed"]]);
    expect(connected?.ok).toBe(true);
    expect(typed).toEqual({
      ok: true,
      text: "rows=1 42|héllo|2.50|t|2026-01-05 10:00:00+00|3|9007199254740993",
    });
  }, 120_000);

  it("reads in parts with a fetch size inside its own transaction, and commits", async () => {
    const replies = await jdbc([
      ["autocommit", "off"],
      ["fetch", "7", "select g from generate_series(1, 100) g"],
      ["query", "select count(*) from customers"],
      ["commit"],
      ["autocommit", "on"],
      ["query", "select 1"],
    ]);
    expect(replies.map((r) => r.text)).toEqual([
      "connected",
      "autocommit=false",
      "rows=100 sum=5050",
      "rows=1 2",
      "committed",
      "autocommit=true",
      "rows=1 1",
    ]);
  }, 120_000);

  it("raises SQLExceptions with the SQLSTATEs: a held write, a target error; the connection goes on", async () => {
    const replies = await jdbc([
      ["query", "insert into notes values (1, 'from jdbc')"],
      ["query", "select 1 / 0"],
      ["query", "select 2"],
    ]);
    expect(replies[1]).toMatchObject({ ok: false, sqlState: "42501" });
    expect(replies[1]?.text).toMatch(/review/i);
    expect(replies[2]).toMatchObject({ ok: false, sqlState: "22012" });
    expect(replies[3]).toEqual({ ok: true, text: "rows=1 2" });
  }, 120_000);

  it("is refused with 28P01 for a wrong password and 3D000 for an unknown connection", async () => {
    const [wrong] = await jdbc([], { password: "not-a-token" });
    expect(wrong).toMatchObject({ ok: false, sqlState: "28P01" });
    const [unknown] = await jdbc([], { database: "nowhere" });
    expect(unknown).toMatchObject({ ok: false, sqlState: "3D000" });
  }, 120_000);
});

describe("numeric parameters in binary format (pgjdbc sends BigDecimal so)", () => {
  it("reads back exactly the text PostgreSQL writes, for every shape of numeric", async () => {
    const { decodeBinaryParameter } = await import("./binary-parameters");
    const values = [
      "0",
      "1",
      "-1",
      "1.25",
      "-1.25",
      "0.0001",
      "0.00001",
      "123456789012345678901234567890.123456789",
      "10000",
      "9999.9999",
      "-0.5",
      "1e-20",
      "1.000",
      "0.000",
      "12345678.87654321",
      "NaN",
      "Infinity",
      "-Infinity",
      "100000000",
      "0.1000",
      "-99999999999999999999.00000000000000000001",
    ];
    const sql = postgres(pgServer.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql.unsafe<{ text: string; bytes: Buffer }[]>(
        `select v::text as text, numeric_send(v) as bytes from unnest($1::numeric[]) as v`,
        [values],
      );
      expect(rows).toHaveLength(values.length);
      for (const row of rows)
        expect(decodeBinaryParameter(1700, row.bytes), row.text).toEqual({ text: row.text });
    } finally {
      await sql.end();
    }
  });

  it("refuses a malformed numeric by name instead of guessing", async () => {
    const { decodeBinaryParameter } = await import("./binary-parameters");
    const header = (ndigits: number, weight: number, sign: number, dscale: number, ...digits: number[]) => {
      const b = Buffer.alloc(8 + 2 * digits.length);
      b.writeInt16BE(ndigits, 0);
      b.writeInt16BE(weight, 2);
      b.writeUInt16BE(sign, 4);
      b.writeInt16BE(dscale, 6);
      for (const [i, d] of digits.entries()) b.writeInt16BE(d, 8 + 2 * i);
      return b;
    };
    for (const bad of [
      Buffer.alloc(4),
      header(2, 0, 0, 0, 1),
      header(1, 0, 0x1234, 0, 1),
      header(1, 0, 0, -1, 1),
      header(1, 0, 0, 0, 10000),
    ])
      expect(decodeBinaryParameter(1700, bad)).toMatchObject({
        refused: expect.stringMatching(/^a numeric parameter/),
      });
  });
});

describe("psycopg2 over libpq (Python scripts, notebooks, ETL)", () => {
  it("runs its statements inside the transaction it opens, parameters quoted client-side, rows masked", async () => {
    const replies = await psycopg([
      ["execute", "select id, name, email, card_number from customers order by id"],
      ["param", "select name, card_number from customers where id = %s and name = %s", '[1, "Grace"]'],
      ["execute", "select order_count(1)"],
      ["commit"],
    ]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true]);
    expect(replies[1]?.text).toMatch(/^rows=2 1\|Grace\|/);
    expect(replies[2]?.text).toMatch(/^rows=1 Grace\|/);
    // A function of the target's own returns what the gateway cannot trace: masked whole, as in the editor.
    expect(replies[3]?.text).toBe("rows=1 [UNTRACED]");
    expectNoOriginals(replies);
  }, 120_000);

  it("reads through a named (server-side) cursor in parts, masked exactly like the same SELECT", async () => {
    const query = "select id, name, email, card_number from customers order by id";
    const replies = await psycopg([
      ["named", "1", query],
      ["commit"],
      ["execute", query],
      ["named", "1000", "select g from generate_series(1, 2500) g"],
      ["named", "1", "select id, login, password from accounts"],
      ["execute", "select id, login, password from accounts"],
      ["commit"],
    ]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true, true]);
    expect(replies[1]?.text).toMatch(/^rows=2 1\|Grace\|/);
    expect(replies[1]?.text).toBe(replies[3]?.text);
    expect(replies[4]?.text).toBe("rows=2500 1");
    expect(replies[5]?.text).toMatch(/^rows=1 1\|grace\|/);
    expect(replies[5]?.text).toBe(replies[6]?.text);
    expectNoOriginals(replies);
  }, 120_000);

  it("copies out with copy_expert, masked", async () => {
    const replies = await psycopg([
      ["copyout", "COPY (select id, email, card_number from customers order by id) TO STDOUT WITH CSV"],
      ["commit"],
    ]);
    expect(replies[1]).toMatchObject({ ok: true });
    expect(replies[1]?.text).toMatch(/^lines=2 1,/);
    expectNoOriginals(replies);
  }, 120_000);

  it("does not trust a cursor's name: a function that reopens it under that name gets every column masked", async () => {
    // reopen() is a write to the gateway (a function of the target's own): a rule lets this account run it, as
    // one would for a service that may write. Masking applies all the same.
    await withWrites(async () => {
      const replies = await psycopg([
        ["execute", "declare c cursor for select id, login, login as note from accounts"],
        ["execute", "select reopen('c')"],
        ["execute", "fetch all from c"],
        ["rollback"],
        ["execute", "declare c cursor for select id, login, login as note from accounts"],
        ["execute", "fetch all from c"],
        ["rollback"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true, true]);
      expect(replies[3]?.text).toBe("rows=1 [UNTRACED]|[UNTRACED]|[UNTRACED]");
      // The cursor the DECLARE opened, unreplaced: traced, nothing masked (nothing in it is a secret).
      expect(replies[6]?.text).toBe("rows=1 1|grace|grace");
      expectNoOriginals(replies);
    });
  }, 120_000);

  it("does not take a failed DECLARE's query for the open cursor's (the same text under another search_path)", async () => {
    const replies = await psycopg([
      ["autocommit", "on"],
      ["execute", "set search_path = vault, public"],
      ["execute", "declare c cursor with hold for select id, v from t"],
      ["execute", "set search_path = public"],
      // The same text, now over the harmless table: refused (42P03), the cursor open is still the first one.
      ["execute", "declare c cursor with hold for select id, v from t"],
      ["execute", "fetch all from c"],
      ["execute", "close c"],
    ]);
    expect(replies[5]).toMatchObject({ ok: false, sqlState: "42P03" });
    expect(replies[6]?.ok).toBe(true);
    expect(replies[6]?.text).toMatch(/^rows=1 1\|/);
    expectNoOriginals(replies);
  }, 120_000);

  it("masks the same text by what it reads under the session's own search_path, in either order", async () => {
    const replies = await psycopg([
      ["autocommit", "on"],
      ["execute", "select id, v from t"],
      ["execute", "set search_path = vault, public"],
      ["execute", "select id, v from t"],
      ["execute", "set search_path = public"],
      ["execute", "select id, v from t"],
    ]);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true]);
    expect(replies[2]?.text).toBe("rows=1 1|harmless");
    expect(replies[6]?.text).toBe("rows=1 1|harmless");
    expectNoOriginals(replies);
  }, 120_000);

  it("traces a temporary view that shadows a table, where the session that made it reads it", async () => {
    await withWrites(async () => {
      const replies = await psycopg([
        ["autocommit", "on"],
        ["execute", "select id, v from t"],
        ["execute", "create temporary view t as select id, password as v from accounts"],
        ["execute", "select id, v from t"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true]);
      expect(replies[2]?.text).toBe("rows=1 1|harmless");
      expectNoOriginals(replies);
    }, ["write", "ddl"]);
  }, 120_000);

  it("does not take an EXECUTE's text for its query: the statement prepared under that name now is what runs", async () => {
    // EXECUTE of a statement prepared in an earlier input is decided as a write (the gateway does not know it):
    // a rule lets this account write, as for a service. Masking applies all the same.
    await withWrites(async () => {
      const replies = await psycopg([
        ["autocommit", "on"],
        ["execute", "prepare p as select id, v from t"],
        ["execute", "execute p"],
        ["execute", "deallocate p"],
        ["execute", "prepare p as select id, password as v from accounts"],
        ["execute", "execute p"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true]);
      expect(replies[3]?.text).toBe("rows=1 1|harmless");
      expectNoOriginals(replies);
    });
  }, 120_000);

  it("explains a statement after one that may have changed the search path (a function's set_config) where it runs", async () => {
    await withWrites(async () => {
      const replies = await psycopg([
        ["autocommit", "on"],
        ["execute", "select id, v from t"],
        // One query, two statements: the second resolves t after to_vault() ran.
        ["execute", "select to_vault(); select id, v from t"],
        ["execute", "set search_path = public"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true]);
      expect(replies[2]?.text).toBe("rows=1 1|harmless");
      expectNoOriginals(replies);
    });
  }, 120_000);

  // The read's own message carries the check of how the session resolves names (decision 0020, session 11):
  // a session that resolves otherwise is caught there, before the read runs, in or out of a transaction.
  describe.each([
    ["outside a transaction (autocommit)", "on"],
    ["inside the transaction psycopg2 opens", "off"],
  ])("the name check sent with a read, %s", (_where, autocommit) => {
    it.each([
      ["before the column", "select to_vault_quietly() as x, id, v from t"],
      ["after the column", "select id, v, to_vault_quietly() as x from t"],
      ["in the condition", "select id, v from t where to_vault_quietly() = 1"],
    ])(
      "catches the search_path a read's own function changed (%s) at the next read",
      async (_how, turning) => {
        const replies = await psycopg([
          ["autocommit", autocommit],
          ["execute", "select id, v from t"],
          // t was resolved before the function ran: the harmless table, as lineage explained it on the pool
          ["execute", turning],
          ["execute", "select id, v from t"],
          ["execute", "select id, login, password from accounts"],
          ["commit"],
        ]);
        expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true]);
        expect(replies[2]?.text).toBe("rows=1 1|harmless");
        expect(replies[3]?.text).toContain("harmless");
        // Outside a transaction the function's set_config stays; inside one, the read's read-only savepoint,
        // rolled back after the read, takes it back with it.
        if (autocommit === "on") expectMaskedRow(replies[4]);
        else expect(replies[4]?.text).toBe("rows=1 1|harmless");
        expect(replies[5]?.text).toMatch(/^rows=1 1\|grace\|/);
        expectNoOriginals(replies);
      },
      120_000,
    );

    it("masks the first read after SET search_path in the same Query, and the reads after it", async () => {
      const replies = await psycopg([
        ["autocommit", autocommit],
        ["execute", "select id, v from t"],
        ["execute", "set search_path = vault, public; select id, v from t"],
        ["execute", "select id, v from t"],
        ["execute", "select id, v from t"],
        ["commit"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual(Array(7).fill(true));
      expect(replies[2]?.text).toBe("rows=1 1|harmless");
      for (const masked of [3, 4, 5]) expectMaskedRow(replies[masked]);
      expectNoOriginals(replies);
    }, 120_000);

    it("masks what a temporary view a function made reads, in the same Query and at the next read", async () => {
      await withWrites(async () => {
        for (const commands of [
          [["execute", "select shadow_t(); select id, v from t"]],
          [
            ["execute", "select shadow_t()"],
            ["execute", "select id, v from t"],
          ],
        ]) {
          const replies = await psycopg([
            ["autocommit", autocommit],
            ["execute", "select id, v from t"],
            ...commands,
            ["execute", "select id, v from t"],
            ["commit"],
          ]);
          expect(replies.every((r) => r.ok)).toBe(true);
          expect(replies[2]?.text).toBe("rows=1 1|harmless");
          expectMaskedRow(replies.at(-2));
          expectNoOriginals(replies);
        }
      }, ["write", "ddl"]);
    }, 120_000);

    it("is not answered by an operator the session's own search_path finds before pg_catalog's", async () => {
      const replies = await psycopg([
        ["autocommit", autocommit],
        ["execute", "select id, v from t"],
        ["execute", "set search_path = vault, public, pg_catalog"],
        ["execute", "select id, v from t"],
        ["execute", "select id, v from t"],
        ["commit"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual(Array(7).fill(true));
      expect(replies[2]?.text).toBe("rows=1 1|harmless");
      // Explained where it runs, under that operator too: masked whole ([UNTRACED]) rather than traced.
      for (const masked of [4, 5]) {
        expect(replies[masked]?.text).toMatch(/^rows=1 /);
        expect(replies[masked]?.text).not.toContain("harmless");
      }
      expectNoOriginals(replies);
    }, 120_000);

    it("keeps a session that resolved otherwise right when it switches back, and again when it switches anew", async () => {
      const replies = await psycopg([
        ["autocommit", autocommit],
        ["execute", "set search_path = vault, public"],
        ["execute", "select id, v from t"],
        ["execute", "select id, v from t"],
        ["execute", "reset search_path"],
        ["execute", "select id, v from t"],
        ["execute", "select id, v from t"],
        ["execute", "set search_path = vault, public"],
        ["execute", "select id, v from t"],
        ["execute", "set search_path = public"],
        ["execute", "select id, v from t"],
        ["commit"],
      ]);
      expect(replies.map((r) => r.ok)).toEqual(Array(13).fill(true));
      for (const masked of [3, 4, 9]) expectMaskedRow(replies[masked]);
      for (const plain of [6, 7, 11]) expect(replies[plain]?.text).toBe("rows=1 1|harmless");
      expectNoOriginals(replies);
    }, 120_000);
  });

  it("raises the held write and a target error with their SQLSTATEs, and rolls back to go on", async () => {
    const replies = await psycopg([
      ["execute", "insert into notes values (2, 'from psycopg')"],
      ["rollback"],
      ["execute", "select 1 / 0"],
      ["rollback"],
      ["execute", "select 3"],
    ]);
    expect(replies[1]).toMatchObject({ ok: false, sqlState: "42501" });
    expect(replies[3]).toMatchObject({ ok: false, sqlState: "22012" });
    expect(replies[5]).toEqual({ ok: true, text: "rows=1 3" });
  }, 120_000);
});
