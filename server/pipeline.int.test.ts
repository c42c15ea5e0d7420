// The SQL pipeline end to end on real parts: a PostgreSQL target with sensitive data, the console's store on
// PostgreSQL, a service account's principal. Results are masked before they leave the pipeline, and neither the
// recorded session nor anything stored holds an original value.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Principal } from "@/server/principal";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";

let pg: PostgresServer;
let storeUrl: string;
let targetUrl: string;
let dataDir: string;
let analyst: Principal;
const actor = { id: null, label: "test" };

const CARD = "4111 1111 1111 1111";
const EMAIL = "grace.hopper@navy.example.com";
const SSN = "123-45-6789";

beforeAll(async () => {
  pg = await startPostgres();
  storeUrl = await createDatabase(pg.url, "store");
  targetUrl = await createDatabase(pg.url, "shop");
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  await target.unsafe(`
    create table customers (id int primary key, name text, email text, card_number text, ssn text, notes text);
    insert into customers values
      (1, 'Grace', '${EMAIL}', '${CARD}', '${SSN}', 'call me, card ${CARD}'),
      (2, 'Alan', 'alan@example.org', '5500 0000 0000 0004', '219-09-9999', 'order #12345 shipped 2026-01-02');
    create table orders (id int primary key, amount numeric);
    insert into orders select g, g * 1.5 from generate_series(1, 25000) g;
    create table bumps (n int);
    create function bump() returns int language sql as $$ insert into bumps values (1) returning n $$;
    create view bumping as select bump() as n;
    -- Stable, so the catalog calls it a read; it writes through bump() all the same.
    create function sneaky() returns int stable language plpgsql as $$ begin return bump(); end $$;
    create view sneaking as select sneaky() as n;`);
  await target.end();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-pipeline-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  const { createGroup, createServiceAccount, loadPrincipal } = await import("@/server/auth");
  await createGroup(actor, { name: "analysts" });
  await addShopConnection("shop");
  const account = await createServiceAccount(actor, { name: "report-bot", groups: ["analysts"] });
  analyst = (await loadPrincipal(account.id, "token"))!;
});

afterAll(async () => {
  const { closeAllPools } = await import("@/server/targets/postgres");
  await closeAllPools();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A connection to the shop database under `name`, for the analysts. */
async function addShopConnection(name: string) {
  const { createConnection } = await import("@/server/connections");
  await createConnection(actor, {
    kind: "postgres",
    name,
    host: pg.host,
    port: pg.port,
    database: "shop",
    username: pg.user,
    password: pg.password,
    groups: ["analysts"],
  });
}

async function run(input: string, extra: { runId?: string; rowLimit?: number; sessionId?: string } = {}) {
  const { runSql } = await import("./pipeline");
  return runSql({ principal: analyst, connectionName: "shop", input, channel: "api", ...extra });
}

/** Runs `body` while a rule lets the analysts write on shop (to the tables or functions it names). */
async function withWriteRule(
  rule: { name: string; tables?: string[]; functions?: string[] },
  body: () => Promise<void>,
) {
  const { createRule, deleteRule } = await import("@/server/policy");
  const id = await createRule(actor, {
    connection: "shop",
    groups: ["analysts"],
    classes: ["write"],
    action: "allow",
    ...rule,
  });
  try {
    await body();
  } finally {
    await deleteRule(actor, id);
  }
}

async function storedText(): Promise<string> {
  const raw = postgres(storeUrl, { max: 1 });
  const rows = await raw`select string_agg(row_to_json(e)::text, E'\\n') as all from session_events e`;
  const reviews =
    await raw`select coalesce(string_agg(row_to_json(r)::text, E'\\n'), '') as all from reviews r`;
  await raw.end();
  return `${rows[0]?.all ?? ""}\n${reviews[0]?.all ?? ""}`;
}

describe("SQL pipeline", () => {
  it("masks card numbers, emails and SSNs in results, and records only masked values", async () => {
    const outcome = await run("select id, name, email, card_number, ssn, notes from customers order by id");
    expect(outcome.status).toBe("done");
    if (outcome.status !== "done") return;
    const [result] = outcome.results;
    expect(result?.rowCount).toBe(2);
    expect(result?.columns.map((c) => c.name)).toEqual([
      "id",
      "name",
      "email",
      "card_number",
      "ssn",
      "notes",
    ]);
    const text = JSON.stringify(result?.rows);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(CARD);
    expect(text).not.toContain(SSN);
    expect(text).toContain("Grace");
    expect(text).toContain("order #12345 shipped 2026-01-02");
    const types = new Set(result?.masked.map(([, , type]) => type));
    expect(types.size).toBeGreaterThanOrEqual(3);
    expect(result?.masked.some(([row, col]) => row === 0 && col === 5)).toBe(true);
    const stored = await storedText();
    expect(stored).toContain("select id, name, email");
    expect(stored).not.toContain(EMAIL);
    expect(stored).not.toContain(CARD);
    expect(stored).not.toContain(SSN);
  });

  it("applies a connection's own masking settings at once: types off, styles, column rules", async () => {
    const { saveMaskingSettings, resetMaskingSettings } = await import("@/server/masking-config");
    const { getConnectionForUse } = await import("@/server/connections");
    const shop = await getConnectionForUse(analyst, "shop");
    const { DETECTOR_TYPES } = await import("@/server/masking");
    await saveMaskingSettings(actor, shop, {
      enabledTypes: DETECTOR_TYPES.filter((t) => t !== "email"),
      styles: { credit_card: "full" },
      columnRules: [{ pattern: "customers.name", type: "person_name" }],
    });
    const outcome = await run("select name, email, notes from customers where id = 1");
    expect(outcome.status).toBe("done");
    if (outcome.status !== "done") return;
    const [row] = outcome.results[0]?.rows ?? [];
    expect(row?.[1]).toBe(EMAIL);
    expect(String(row?.[0])).not.toContain("Grace");
    expect(String(row?.[2])).not.toContain("1111");
    expect(outcome.results[0]?.masked.map(([, col, type]) => `${col}:${type}`).sort()).toContain(
      "0:person_name",
    );
    await resetMaskingSettings(actor, shop);
    const back = await run("select email from customers where id = 1");
    expect(JSON.stringify(back.status === "done" && back.results[0]?.rows)).not.toContain(EMAIL);
  });

  it("streams with a row limit and says the result was truncated", async () => {
    const outcome = await run("select * from orders order by id", { rowLimit: 1000 });
    expect(outcome.status).toBe("done");
    if (outcome.status !== "done") return;
    expect(outcome.results[0]?.rows).toHaveLength(1000);
    expect(outcome.results[0]?.truncated).toBe(true);
    const small = await run("select * from orders where id <= 10");
    expect(small.status === "done" && small.results[0]?.truncated).toBe(false);
  });

  it("runs a statement proven to fit the row limit in one round trip, and cuts one that may not", async () => {
    // LIMIT 20 fits a limit of 30: run plainly; under a limit of 10 it goes through the cursor and is cut.
    const plain = await run("select id from orders order by id limit 20", { rowLimit: 30 });
    const cut = await run("select id from orders order by id limit 20", { rowLimit: 10 });
    const values = await run("values (1), (2), (3)", { rowLimit: 2 });
    expect(plain.status === "done" && plain.results[0]).toMatchObject({ rowCount: 20, truncated: false });
    expect(cut.status === "done" && cut.results[0]).toMatchObject({ rowCount: 10, truncated: true });
    expect(values.status === "done" && values.results[0]).toMatchObject({ rowCount: 2, truncated: true });
    // The bound the parser proves is never below what the target returns.
    const { classifySql } = await import("./policy");
    for (const input of [
      "select 1 as one",
      "select 'a'::text, null, 2::int8",
      "values (1), (2)",
      "show work_mem",
      "select id from orders limit 7 offset 24990",
      "select id from orders union select id + 1 from orders limit 9",
    ]) {
      const outcome = await run(input, { rowLimit: 100_000 });
      const [statement] = (await classifySql(input)).statements;
      expect(outcome.status, input).toBe("done");
      if (outcome.status !== "done") continue;
      expect(outcome.results[0]?.rowCount, input).toBeLessThanOrEqual(statement?.maxRows ?? -1);
      expect(outcome.results[0]?.truncated, input).toBe(false);
    }
  });

  it("gives several statements several results, in one session on the target", async () => {
    const outcome = await run(
      "set search_path = public; select 1 as one; select count(*) as n from orders; show search_path",
    );
    expect(outcome.status).toBe("done");
    if (outcome.status !== "done") return;
    expect(outcome.results.map((r) => r.command)).toEqual(["SET", "SELECT", "SELECT", "SHOW"]);
    expect(outcome.results[2]?.rows).toEqual([["25000"]]);
  });

  it("hands the target session back clean: an open transaction is rolled back and settings are reset", async () => {
    const outcome = await run("begin; set application_name = 'left-dirty'; select 1 as one");
    expect(outcome.status).toBe("done");
    const raw = postgres(targetUrl, { max: 1, onnotice: () => {} });
    try {
      // The clean-up runs after the reply, before the session goes back to the pool.
      await vi.waitFor(
        async () => {
          const [row] = await raw`
            select count(*)::int as n from pg_stat_activity
            where application_name = 'left-dirty' or (application_name = 'portcullis' and state <> 'idle')`;
          expect(row?.n).toBe(0);
        },
        { timeout: 10_000 },
      );
    } finally {
      await raw.end();
    }
  });

  it("holds a write for review and blocks a drop, recording both without running them", async () => {
    const held = await run("delete from orders where id = 1");
    expect(held.status).toBe("pending_review");
    if (held.status === "pending_review") expect(held.reviewId).toMatch(/^[0-9a-f-]{36}$/);
    const ddl = await run("drop table customers");
    expect(ddl.status).toBe("pending_review");
    const blocked = await run("select pg_read_file('/etc/passwd')");
    expect(blocked.status).toBe("blocked");
    if (blocked.status === "blocked") expect(blocked.reasons[0]?.class).toBe("dangerous");
    const raw = postgres(storeUrl, { max: 1 });
    const [counts] = await raw`select sum(held)::int as held, sum(blocked)::int as blocked from sessions`;
    await raw.end();
    expect(counts).toEqual({ held: 2, blocked: 1 });
  });

  it("applies a rule an admin adds to the very next statement, and its removal too", async () => {
    const { createRule, deleteRule } = await import("@/server/policy");
    expect((await run("update orders set amount = 0 where id = 2")).status).toBe("pending_review");
    const id = await createRule(actor, {
      name: "Analysts fix orders",
      connection: "shop",
      groups: ["analysts"],
      classes: ["write"],
      tables: ["orders"],
      action: "allow",
    });
    const allowed = await run("update orders set amount = 0 where id = 2");
    expect(allowed.status).toBe("done");
    if (allowed.status === "done")
      expect(allowed.results[0]).toMatchObject({ command: "UPDATE", rowCount: 1 });
    expect((await run("update customers set name = 'x' where id = 2")).status).toBe("pending_review");
    await deleteRule(actor, id);
    expect((await run("update orders set amount = 0 where id = 2")).status).toBe("pending_review");
  });

  it("runs reads in a read-only transaction on the target", async () => {
    const outcome = await run(
      "show transaction_read_only; select 1 as one; reset all; show transaction_read_only",
    );
    expect(outcome.status === "done" && outcome.results.map((r) => r.rows)).toEqual([
      [["on"]],
      [[1]],
      [],
      [["on"]],
    ]);
    // Writes do not: the transaction is the target's default.
    await withWriteRule({ name: "Analysts write orders", tables: ["orders"] }, async () => {
      const write = await run("update orders set amount = amount where id = 3 returning amount");
      expect(write.status).toBe("done");
    });
  });

  it("decides again as a write when a read turns out to write (a function, a view), and changes nothing first", async () => {
    const raw = postgres(targetUrl, { max: 1, onnotice: () => {} });
    const bumps = async () => (await raw`select count(*)::int as n from bumps`)[0]?.n;
    const events = async (sessionId: string) => {
      const store = postgres(storeUrl, { max: 1 });
      const rows =
        await store`select type, data from session_events where session_id = ${sessionId} order by seq`;
      await store.end();
      return rows.map((r) => [r.type, (r.data as { status?: string }).status]);
    };
    try {
      // A volatile function (called, or behind a view) is a write by the target's catalog: held at once.
      for (const input of ["select bump()", "select * from bumping"]) {
        const held = await run(input);
        expect(held.status, input).toBe("pending_review");
        if (held.status !== "pending_review") continue;
        expect(held.decision.class).toBe("write");
        expect(await events(held.sessionId)).toEqual([["statement", "held"]]);
      }
      // A function the catalog calls stable that writes anyway: the read-only session refuses it, and the
      // input is decided again as a write.
      for (const input of [
        "select sneaky()",
        "select * from sneaking",
        "begin; select 1; select sneaky(); commit",
      ]) {
        const held = await run(input);
        expect(held.status, input).toBe("pending_review");
        if (held.status !== "pending_review") continue;
        expect(held.decision.class).toBe("write");
        // The statement that wrote is the one decided as a write.
        expect(held.reasons.filter((r) => r.class === "write").map((r) => r.statement)).toEqual([
          input.includes("sneaking") ? "select * from sneaking" : "select sneaky()",
        ]);
        expect(await bumps()).toBe(0);
        // The refused attempt stays recorded, then the held statement.
        expect(await events(held.sessionId)).toEqual([
          ["statement", "running"],
          ["result", "failed"],
          ["statement", "held"],
        ]);
      }
      // Asking for read-write mode is itself a write: held at once, without an attempt.
      const asked = await run("set transaction read write; select bump()");
      expect(asked.status).toBe("pending_review");
      if (asked.status === "pending_review")
        expect(await events(asked.sessionId)).toEqual([["statement", "held"]]);
      expect(await bumps()).toBe(0);
      // A rule that allows the function as a write lets it run, once.
      await withWriteRule({ name: "Analysts bump", functions: ["bump"] }, async () => {
        const ran = await run("select bump()");
        expect(ran.status).toBe("done");
        expect(await bumps()).toBe(1);
      });
    } finally {
      await raw.end();
    }
  });

  it("remembers the parse of a repeated text but decides it again: a function redefined through the gateway applies to the very next run", async () => {
    const { createRule, deleteRule, parseStats } = await import("@/server/policy");
    const raw = postgres(targetUrl, { max: 1, onnotice: () => {} });
    const bumps = async () => (await raw`select count(*)::int as n from bumps`)[0]?.n;
    await raw.unsafe("create function mood() returns int stable language sql as $$ select 1 $$");
    try {
      const first = await run("select mood()");
      expect(first.status).toBe("done");
      const parsed = parseStats.parsed;
      const again = await run("select mood()");
      expect(again.status).toBe("done");
      expect(parseStats.parsed).toBe(parsed); // the text was not parsed again
      const before = await bumps();
      const id = await createRule(actor, {
        name: "Analysts redefine functions",
        connection: "shop",
        groups: ["analysts"],
        classes: ["ddl"],
        action: "allow",
      });
      try {
        const ddl = await run(
          "create or replace function mood() returns int volatile language sql as $$ insert into bumps values (7) returning n $$",
        );
        expect(ddl.status).toBe("done");
      } finally {
        await deleteRule(actor, id);
      }
      // The same text, parsed from the cache: the catalog now says it writes, so it is held, and nothing ran.
      const held = await run("select mood()");
      expect(held.status).toBe("pending_review");
      if (held.status === "pending_review") expect(held.decision.class).toBe("write");
      expect(await bumps()).toBe(before);
    } finally {
      await raw.unsafe("drop function if exists mood()");
      await raw.end();
    }
  });

  it("refuses input the parser rejects, with the position of the error", async () => {
    const outcome = await run("select 1;\nselect * fromm orders");
    expect(outcome.status).toBe("blocked");
    if (outcome.status === "blocked") {
      expect(outcome.reasons[0]?.class).toBe("unparseable");
      expect(outcome.parseError?.position).toBeGreaterThan(10);
    }
  });

  it("reports a target error with its position in the whole input", async () => {
    const outcome = await run("select 1;\nselect nope from orders");
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.results).toHaveLength(1);
    expect(outcome.error).toMatchObject({ code: "target_error", sqlState: "42703" });
    expect(outcome.error.position).toBe("select 1;\nselect nope".indexOf("nope") + 1);
  });

  it("cancels a running statement on the target", async () => {
    const runId = randomUUID();
    const { cancelRun } = await import("@/server/targets/runs");
    const pending = run("select pg_sleep(30)", { runId });
    await new Promise((r) => setTimeout(r, 700));
    expect(cancelRun(runId, "someone-else")).toBe(false);
    expect(cancelRun(runId, analyst.id)).toBe(true);
    // 57014 is the cancel's own code: a statement that ran its 30 s out would have succeeded.
    const outcome = await pending;
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed")
      expect(outcome.error).toMatchObject({ code: "cancelled", sqlState: "57014" });
  });

  it("refuses bad input with 4xx errors that name the problem", async () => {
    await expect(run("   ")).rejects.toMatchObject({ status: 400, message: "the statement is empty" });
    await expect(run(`select '${"x".repeat(300 * 1024)}'`)).rejects.toMatchObject({ status: 413 });
    const { runSql } = await import("./pipeline");
    await expect(
      runSql({ principal: analyst, connectionName: "nope", input: "select 1", channel: "api" }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(run("select 1", { sessionId: randomUUID() })).rejects.toMatchObject({ status: 404 });
  });

  it("records a new session and its first statement together, continues it, and keeps its hash chain whole", async () => {
    const first = await run("select id from customers where id = 1");
    if (first.status !== "done") throw new Error(first.status);
    const second = await run("select id from customers where id = 2", { sessionId: first.sessionId });
    expect(second.sessionId).toBe(first.sessionId);
    const blocked = await run("selec nonsense", { sessionId: first.sessionId });
    expect(blocked.status).toBe("blocked");
    const { getSessionWithEvents } = await import("@/server/recording");
    const { verifySession } = await import("@/server/integrity");
    const recorded = await getSessionWithEvents(first.sessionId);
    expect(recorded?.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "statement"],
      [2, "result"],
      [3, "statement"],
      [4, "result"],
      [5, "statement"],
    ]);
    expect(recorded?.session).toMatchObject({ statements: 3, allowed: 2, blocked: 1, eventSeq: 5 });
    expect(await verifySession(first.sessionId)).toMatchObject({ ok: true, events: 5 });
  });

  it("refuses to continue a session that is not the caller's, is on another connection, or has ended", async () => {
    const own = await run("select 1");
    const { createServiceAccount, loadPrincipal } = await import("@/server/auth");
    await addShopConnection("shop-copy");
    const { runSql } = await import("./pipeline");
    const other = await createServiceAccount(actor, { name: "other-bot", groups: ["analysts"] });
    const otherPrincipal = (await loadPrincipal(other.id, "token"))!;
    await expect(
      runSql({
        principal: otherPrincipal,
        connectionName: "shop",
        input: "select 1",
        channel: "api",
        sessionId: own.sessionId,
      }),
    ).rejects.toMatchObject({ status: 404, message: "no such session" });
    await expect(
      runSql({
        principal: analyst,
        connectionName: "shop-copy",
        input: "select 1",
        channel: "api",
        sessionId: own.sessionId,
      }),
    ).rejects.toMatchObject({ status: 400, message: "that session belongs to another connection" });
    const { endSession, getSessionWithEvents } = await import("@/server/recording");
    await endSession(own.sessionId);
    await expect(run("select 1", { sessionId: own.sessionId })).rejects.toMatchObject({
      status: 400,
      message: "that session has ended; start a new one",
    });
    // Nothing was appended by the refused attempts.
    expect((await getSessionWithEvents(own.sessionId))?.events).toHaveLength(2);
  });
});
