// A pooled target session carries nothing from one caller to the next. Each attack leaves one kind of session
// state behind on a pool of one session (so the next caller gets the same backend: asserted, or the test would
// prove nothing) and a second caller tries to observe or use it. Real PostgreSQL 15, the real driver.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { TEST_ACTOR as actor, type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let storeUrl: string;
let targetUrl: string;
let connectionId: string;
let analyst: Principal;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "session-reset",
    targetSql: `
      create role intruder;
      create table notes (id int primary key, body text);
      insert into notes values (1, 'private note');
      create sequence tickets;
      create table memo (id int, body text);
      insert into memo values (1, 'memo');`,
  });
  ({ storeUrl, targetUrl, connectionId } = gateway);
  // One session per pool: every use gets the backend the previous one used.
  const store = postgres(storeUrl, { max: 1, onnotice: () => {} });
  await store`update connections set options = options || '{"poolSize": 1}'::jsonb where id = ${connectionId}`;
  await store.end();
  const { createServiceAccount, loadPrincipal } = await import("@/server/auth");
  const account = await createServiceAccount(actor, { name: "report-bot", groups: ["analysts"] });
  analyst = (await loadPrincipal(account.id, "token"))!;
});

afterAll(async () => {
  await gateway?.stop();
});

/** Runs statements as one use of a pooled session; `readOnly` picks the read-only pool. */
async function use(statements: string[], readOnly = false) {
  const { runStatements } = await import("./postgres");
  return runStatements(connectionId, statements, { rowLimit: 100, throughCursor: () => false, readOnly });
}

/** The backend a use ran on, and the rows of its last statement (or the error it ended with). */
async function observe(statements: string[], readOnly = false) {
  const { results, error } = await use(["select pg_backend_pid() as pid", ...statements], readOnly);
  const pid = results[0]?.rows[0]?.[0];
  return { pid, rows: results.at(-1)?.rows, error: error as (Error & { sqlState?: string }) | undefined };
}

async function backendOf(readOnly = false) {
  return (await observe([], readOnly)).pid;
}

describe("a pooled target session between two callers", () => {
  // [what the first caller leaves, its statements, what the next caller tries, what it must get]
  const leftovers: [string, string[], string[], (o: Awaited<ReturnType<typeof observe>>) => void][] = [
    [
      "a WITH HOLD cursor is closed",
      ["declare leak cursor with hold for select body from notes"],
      ["fetch all from leak"],
      (o) => expect(o.error?.sqlState).toBe("34000"),
    ],
    [
      "a prepared statement is deallocated",
      ["prepare snoop as select body from notes"],
      ["execute snoop"],
      (o) => expect(o.error?.sqlState).toBe("26000"),
    ],
    [
      "a temporary table is dropped",
      ["create temp table stash as select body from notes"],
      ["select count(*)::int from pg_class where relnamespace = pg_my_temp_schema()"],
      (o) => expect(o.rows).toEqual([[0]]),
    ],
    [
      "a session advisory lock is released",
      ["select pg_advisory_lock(4242)"],
      ["select count(*)::int from pg_locks where locktype = 'advisory' and objid = 4242"],
      (o) => expect(o.rows).toEqual([[0]]),
    ],
    [
      "SET ROLE is undone",
      ["set role intruder"],
      ["select current_user::text, session_user::text"],
      (o) => expect(o.rows).toEqual([[gateway.pg.user, gateway.pg.user]]),
    ],
    [
      "SET SESSION AUTHORIZATION is undone",
      ["set session authorization intruder"],
      ["select current_user::text, session_user::text"],
      (o) => expect(o.rows).toEqual([[gateway.pg.user, gateway.pg.user]]),
    ],
    [
      "LISTEN is undone",
      ["listen gossip"],
      ["select count(*)::int from pg_listening_channels()"],
      (o) => expect(o.rows).toEqual([[0]]),
    ],
    [
      "a custom setting set with set_config(..., false) is reset",
      ["select set_config('app.tenant', '42', false)"],
      ["select coalesce(current_setting('app.tenant', true), '')"],
      (o) => expect(o.rows).toEqual([[""]]),
    ],
    [
      "a changed search_path is reset",
      ["set search_path = pg_temp, public"],
      ["show search_path"],
      (o) => expect(o.rows).toEqual([['"$user", public']]),
    ],
    [
      "a sequence's currval is forgotten",
      ["select nextval('tickets')"],
      ["select currval('tickets')"],
      (o) => expect(o.error?.sqlState).toBe("55000"),
    ],
    [
      "an open transaction is rolled back",
      ["begin", "insert into notes values (2, 'uncommitted')"],
      ["select count(*)::int from notes where id = 2"],
      (o) => expect(o.rows).toEqual([[0]]),
    ],
  ];

  it.each(leftovers)("%s", async (_name, leave, tryThis, expectation) => {
    const before = await backendOf();
    const left = await use(leave);
    expect(left.error).toBeUndefined();
    const seen = await observe(tryThis);
    expect(seen.pid).toBe(before);
    expectation(seen);
  });

  it("releases an advisory lock so another session can take it", async () => {
    await use(["select pg_advisory_lock(777)"]);
    await backendOf(); // the next use starts only once the previous one was cleaned
    const other = postgres(targetUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await other`select pg_try_advisory_lock(777) as got`;
      expect(row?.got).toBe(true);
    } finally {
      await other.end();
    }
  });

  it("keeps the read-only pool read-only after a caller turned read-write mode on", async () => {
    const before = await backendOf(true);
    await use(
      [
        "set session characteristics as transaction read write",
        "set default_transaction_read_only = off",
        "select set_config('default_transaction_read_only', 'off', false)",
      ],
      true,
    );
    const seen = await observe(["insert into notes values (3, 'written through a read')"], true);
    expect(seen.pid).toBe(before);
    expect(seen.error?.sqlState).toBe("25006");
    const shown = await observe(["show default_transaction_read_only"], true);
    expect(shown.rows).toEqual([["on"]]);
  });

  it("cleans a session even when the caller left a statement timeout too short for the clean-up", async () => {
    // Many temporary tables make DISCARD take far longer than the 1 ms the caller leaves (set last, so its own
    // statements still run): a clean-up under the caller's timeout would fail and leave them all there.
    const left = await use([
      "do $$ begin for i in 1..400 loop execute format('create temp table t%s (x int)', i); end loop; end $$",
      "set statement_timeout = 1",
    ]);
    expect(left.error).toBeUndefined();
    const seen = await observe([
      "select count(*)::int, current_setting('statement_timeout') from pg_class where relnamespace = pg_my_temp_schema()",
    ]);
    expect(seen.error).toBeUndefined();
    expect(seen.rows).toEqual([[0, "1min"]]);
  });

  it("ends a session whose clean-up fails instead of handing it out again", async () => {
    const { returnSession } = await import("./postgres");
    const pool = postgres(targetUrl, { max: 1, onnotice: () => {} });
    try {
      const session = await pool.reserve();
      const [first] = await session`select pg_backend_pid() as pid, pg_advisory_lock(5150)`;
      // A clean-up that cannot succeed stands for one the target refuses.
      const outcome = await returnSession(session, undefined, ["select 1/0"]);
      expect(outcome).toBe("ended");
      const [next] = await pool`select pg_backend_pid() as pid, pg_try_advisory_lock(5150) as got`;
      expect(next?.pid).not.toBe(first?.pid);
    } finally {
      await pool.end();
    }
  });

  it("closes the whole pool when a session stuck in COPY cannot be cleaned or ended", async () => {
    const { returnSession } = await import("./postgres");
    const pool = postgres(targetUrl, { max: 1, onnotice: () => {} });
    try {
      const session = await pool.reserve();
      const copying = await session.unsafe("copy notes from stdin").writable();
      copying.on("error", () => {}); // destroyed with the pool
      // It never answers: the clean-up gives up after the time it is given (here 100 ms).
      const pools = { sql: pool as never, reads: pool as never };
      expect(await returnSession(session, pools, undefined, 100)).toBe("retired");
      await expect(pool`select 1`).rejects.toMatchObject({ code: expect.stringMatching(/^CONNECTION_/) });
    } finally {
      await pool.end({ timeout: 0 });
    }
  });

  it("names a result column's table from the catalog even when the caller shadowed its operators", async () => {
    // The table a column comes from decides its masking, and the name is cached for every caller: a caller's
    // search_path must not reach the gateway's own lookup, which runs in the caller's session.
    const { results, error } = await use([
      "create schema evil",
      "create function evil.fake(name, text) returns text language sql as $$ select 'public.decoy'::text $$",
      "create operator evil.|| (leftarg = name, rightarg = text, function = evil.fake)",
      "create function evil.same(oid, oid) returns boolean language sql as $$ select false $$",
      "create operator evil.= (leftarg = oid, rightarg = oid, function = evil.same)",
      "set search_path = evil, pg_catalog, public",
      "select body from memo",
    ]);
    expect(error).toBeUndefined();
    expect(results.at(-1)?.columns).toEqual([{ name: "body", type: "text", oid: 25, table: "public.memo" }]);
  });

  it("does not let one caller FETCH another's WITH HOLD cursor through the pipeline", async () => {
    const { runSql } = await import("../pipeline");
    const run = (input: string) =>
      runSql({ principal: analyst, connectionName: "shop", input, channel: "api" });
    const declared = await run("declare leak2 cursor with hold for select body from notes");
    expect(declared.status).toBe("done");
    const fetched = await run("fetch all from leak2");
    expect(fetched.status).toBe("failed");
    if (fetched.status === "failed") expect(fetched.error.sqlState).toBe("34000");
  });
});
