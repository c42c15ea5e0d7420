// pg_dump (Debian's 15) through the native listener, TLS and a service account's token, against a real PostgreSQL 15
// target: its session set-up, its PREPAREd catalog queries EXECUTEd in later Queries, LOCK ... IN ACCESS SHARE MODE
// and COPY ... TO stdout all pass as reads; the schema it writes is a direct dump's; its data is masked as any read
// is (by detectors, by column rule alone); the dump loads with psql and pg_restore; the session is recorded with
// nothing but reads. Then the attacks on remembering a PREPARE across inputs: the statement swapped behind the
// gateway's back by a function's dynamic SQL, and a PREPARE of a write.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ACTOR } from "@/test/harness/gateway";
import { type ApprovalsConsole, interactivePsql, startApprovalsConsole } from "./approvals.fixture";

const PUBLIC_URL = "http://console.example.test";
const SECRETS = [
  "4111 1111 1111 1111",
  "5500 0000 0000 0004",
  "grace.hopper@example.com",
  "gail.hopper@example.com",
  "hunter2-plain",
  "987654",
  "top secret payroll",
];

let gw: ApprovalsConsole;
let work: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gw = await startApprovalsConsole({
    name: "pg-dump",
    targetSql: `create table customers (id int primary key, name text, email text unique, card_number text);
      insert into customers values (1, 'Grace', 'grace.hopper@example.com', '4111 1111 1111 1111'),
        (2, 'Gail', 'gail.hopper@example.com', '5500 0000 0000 0004');
      create table accounts (id int primary key, login text, password text);
      insert into accounts values (1, 'grace', 'hunter2-plain');
      create table staff (id int primary key, pay int);
      insert into staff values (1, 987654);
      create table payroll (id int, secret text);
      insert into payroll values (1, 'top secret payroll');
      create view customer_names as select name from customers;
      create sequence invoice_no start 100;
      select nextval('invoice_no');
      create function swap_x() returns void language plpgsql as $$
        begin execute 'deallocate x'; execute 'prepare x as select secret from payroll'; end $$;`,
    accounts: ["dumper"],
    publicUrl: PUBLIC_URL,
  });
  const { DEFAULT_COLUMN_RULES } = await import("@/server/masking");
  const { saveMaskingSettings } = await import("@/server/masking-config");
  const { getConnectionById } = await import("@/server/connections");
  const { createRule } = await import("@/server/policy");
  await createRule(TEST_ACTOR, {
    name: "No payroll",
    tables: ["payroll"],
    action: "deny",
    message: "payroll is not for service accounts",
  });
  // pay holds plain numbers no detector knows: masked by its column rule (lineage) alone.
  await saveMaskingSettings(TEST_ACTOR, await getConnectionById(gw.connectionId), {
    columnRules: [...DEFAULT_COLUMN_RULES, { pattern: "staff.pay", type: "salary" }],
  });
  work = mkdtempSync(path.join(tmpdir(), "portcullis-pg-dump-"));
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 1 << 26 },
      (err, out, errOut) =>
        resolve({
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
          stdout: out,
          stderr: errOut,
        }),
    );
  });
}

const through = () => `host=127.0.0.1 port=${gw.listener.port} dbname=shop user=dumper sslmode=require`;
const token = () => ({ PGPASSWORD: gw.tokens.dumper ?? "" });
/** payroll is denied by a table rule: a dump leaves it out, as a person would once the gateway named it. */
const EXCLUDE_DENIED = "--exclude-table=public.payroll";
/** pg_dump 15.18 writes \restrict and \unrestrict with a random key each run: not part of what was dumped. */
const withoutRestrictKeys = (dump: string) => dump.replace(/^\\(un)?restrict .*$/gm, "");

describe("pg_dump through the gateway", () => {
  it("dumps the whole database, its schema identical to a direct dump's and its data masked", async () => {
    const dump = await run("pg_dump", [through(), "--no-owner", EXCLUDE_DENIED], token());
    expect(dump.stderr).toBe("");
    expect(dump.code).toBe(0);
    for (const secret of SECRETS) expect(dump.stdout).not.toContain(secret);
    expect(dump.stdout).toContain("1\tGrace\t[EMAIL]\t[CREDIT_CARD]\n2\tGail\t[EMAIL]\t[CREDIT_CARD]");
    expect(dump.stdout).toMatch(
      /COPY public\.accounts \(id, login, password\) FROM stdin;\n1\tgrace\t\[PASSWORD\]/,
    );
    expect(dump.stdout).toMatch(/COPY public\.staff \(id, pay\) FROM stdin;\n1\t(?!987654)\S+\n/);
    expect(dump.stdout).toContain("SELECT pg_catalog.setval('public.invoice_no', 100, true);");

    const schema = await run("pg_dump", [through(), "--no-owner", "--schema-only", EXCLUDE_DENIED], token());
    expect(schema.code).toBe(0);
    const direct = await run("pg_dump", [gw.targetUrl, "--no-owner", "--schema-only", EXCLUDE_DENIED]);
    expect(direct.code).toBe(0);
    expect(withoutRestrictKeys(schema.stdout)).toBe(withoutRestrictKeys(direct.stdout));
  }, 120_000);

  it("records the dump like any session: its statements, all reads allowed, and masked previews", async () => {
    const before = await gw.onStore(
      async (sql) => (await sql`select count(*)::int as n from sessions`)[0]?.n as number,
    );
    const dump = await run("pg_dump", [through(), "--no-owner", EXCLUDE_DENIED], token());
    expect(dump.code).toBe(0);
    const events = await gw.onStore(
      // The dump's own session: the one the last recorded event belongs to.
      (sql) => sql`select e.type, e.data from session_events e
        where e.session_id = (select session_id from session_events order by id desc limit 1) order by e.id`,
    );
    const sessions = await gw.onStore(
      async (sql) => (await sql`select count(*)::int as n from sessions`)[0]?.n as number,
    );
    expect(sessions).toBeGreaterThan(before);
    const statements = events
      .filter((e) => e.type === "statement")
      .map((e) => e.data as Record<string, unknown>);
    const inputs = statements.map((s) => String(s.input));
    expect(
      inputs.some((i) => i.startsWith("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")),
    ).toBe(true);
    expect(inputs).toContainEqual(expect.stringMatching(/^EXECUTE \w+/));
    expect(inputs).toContainEqual(
      expect.stringMatching(/^LOCK TABLE public\.customers IN ACCESS SHARE MODE/),
    );
    // COPY ... TO stdout is recorded as the query the gateway runs to mask its rows (copy.ts).
    expect(inputs).toContainEqual(
      'SELECT "id", "name", "email", "card_number" FROM ONLY "public"."customers"',
    );
    expect(statements.filter((s) => s.class !== "read" || s.decision !== "allow")).toEqual([]);
    const recorded = JSON.stringify(events);
    for (const secret of SECRETS) expect(recorded).not.toContain(secret);
  }, 120_000);

  it("the transaction's first statement on the target is pg_dump's SET TRANSACTION, nothing of the gateway's before it", async () => {
    // The target logs nothing we could read here; what the target saw is checked by its effect: a snapshot taken by
    // anything before SET TRANSACTION would make PostgreSQL refuse it (25001), and pg_dump would fail.
    const dump = await run(
      "pg_dump",
      [through(), "--schema-only", "--serializable-deferrable", EXCLUDE_DENIED],
      token(),
    );
    expect(dump.stderr).toBe("");
    expect(dump.code).toBe(0);
  }, 120_000);

  it("loads into a fresh database with psql, but masked values that collide break a UNIQUE constraint and a masked integer cannot load", async () => {
    const file = path.join(work, "plain.sql");
    const dump = await run("pg_dump", [through(), "--no-owner", EXCLUDE_DENIED, "-f", file], token());
    expect(dump.code).toBe(0);
    await gw.onTarget((sql) => sql.unsafe("create database restored_plain"));
    const restoredUrl = gw.targetUrl.replace(/\/shop(\?|$)/, "/restored_plain$1");
    const load = await run("psql", [restoredUrl, "-X", "-q", "-f", file]);
    // pg_dump loads the rows first and adds constraints after: both emails are [EMAIL] now, so the UNIQUE
    // constraint cannot be added; and an integer column masked to [SALARY] cannot be loaded at all.
    expect(load.stderr).toContain('could not create unique index "customers_email_key"');
    expect(load.stderr).toContain('invalid input syntax for type integer: "[SALARY]"');
    const counts = await run("psql", [
      restoredUrl,
      "-X",
      "-At",
      "-c",
      "select (select count(*) from customers), (select password from accounts), (select count(*) from staff), (select count(*) from customer_names)",
    ]);
    expect(counts.stdout.trim()).toBe("2|[PASSWORD]|0|2");
    expect(readFileSync(file, "utf8")).not.toContain("hunter2-plain");
  }, 120_000);

  it("dumps in the custom format, and pg_restore loads it", async () => {
    const file = path.join(work, "custom.dump");
    const dump = await run("pg_dump", [through(), "--no-owner", EXCLUDE_DENIED, "-Fc", "-f", file], token());
    expect(dump.stderr).toBe("");
    expect(dump.code).toBe(0);
    await gw.onTarget((sql) => sql.unsafe("create database restored_custom"));
    const restoredUrl = gw.targetUrl.replace(/\/shop(\?|$)/, "/restored_custom$1");
    const restore = await run("pg_restore", ["--no-owner", "-d", restoredUrl, file]);
    expect(restore.stderr).toContain('could not create unique index "customers_email_key"');
    const rows = await run("psql", [
      restoredUrl,
      "-X",
      "-At",
      "-c",
      "select login || ':' || password from accounts",
    ]);
    expect(rows.stdout.trim()).toBe("grace:[PASSWORD]");
    const raw = readFileSync(file);
    for (const secret of SECRETS) expect(raw.includes(Buffer.from(secret))).toBe(false);
  }, 120_000);
});

const conninfo = () => `${through()} password=${gw.tokens.dumper ?? ""}`;

describe("pg_dump's session settings", () => {
  it("keeps the search_path pg_dump empties with set_config() for the rest of the session", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      const set = await psql.send("SELECT pg_catalog.set_config('search_path', '', false);");
      expect(set.stderr).toBe("");
      const after = await psql.send("SELECT pg_catalog.current_schemas(false);");
      expect(after.stdout).toContain("{}");
    } finally {
      await psql.end();
    }
  }, 60_000);

  it("keeps the search_path set_config() empties inside the client's transaction (pg_dump sends it again there)", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      expect((await psql.send("BEGIN;")).stderr).toBe("");
      expect((await psql.send("SELECT pg_catalog.set_config('search_path', '', false);")).stderr).toBe("");
      expect((await psql.send("SELECT pg_catalog.current_schemas(false);")).stdout).toContain("{}");
      expect((await psql.send("COMMIT;")).stderr).toBe("");
      expect((await psql.send("SELECT pg_catalog.current_schemas(false);")).stdout).toContain("{}");
    } finally {
      await psql.end();
    }
  }, 60_000);
});

describe("set_config() with its name from pg_settings", () => {
  it("refuses pg_dump's set_config once a temporary table named pg_settings can stand in for the system view", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      const PG_DUMP_SET_CONFIG =
        "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind';";
      expect((await psql.send(PG_DUMP_SET_CONFIG)).stderr).toBe("");
      // DDL is held; approved, it runs once. Its `name` could be anything: every setting, a volatile function.
      const create = "CREATE TEMP TABLE pg_settings (name text, setting text);";
      const reviewId = /held for review ([0-9a-f-]{36})/.exec((await psql.send(create)).stderr)?.[1];
      expect(reviewId).toBeDefined();
      await gw.decide(reviewId as string);
      expect((await psql.send(create)).stderr).not.toContain("ERROR");
      const refused = await psql.send(PG_DUMP_SET_CONFIG);
      expect(refused.stderr).toContain("ERROR:  42501");
      expect(refused.stderr).toMatch(
        /DETAIL: .*pg_temp_\d+\.pg_settings can stand in for pg_catalog\.pg_settings/,
      );
    } finally {
      await psql.end();
    }
  }, 60_000);
});

describe("an EXECUTE of a statement PREPAREd in an earlier input", () => {
  it("runs as the read it prepared, its rows masked by lineage", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      expect(
        (
          await psql.send(
            "PREPARE q(int) AS SELECT email AS contact, pay FROM customers, staff WHERE customers.id = $1;",
          )
        ).stderr,
      ).toBe("");
      const executed = await psql.send("EXECUTE q(1);");
      expect(executed.stderr).toBe("");
      // Masked by the column rules through the PREPARE's plan, under another name: lineage, not detectors.
      expect(executed.stdout).toMatch(/\[EMAIL\]\s*\|\s*\[SALARY\]/);
      expect(executed.stdout).not.toContain("987654");
    } finally {
      await psql.end();
    }
  }, 60_000);

  it("holds the PREPARE of a write, and an EXECUTE of it stays a write", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      expect((await psql.send("PREPARE w AS DELETE FROM accounts WHERE id = 1;")).stderr).toContain(
        "held for review",
      );
      expect((await psql.send("EXECUTE w;")).stderr).toContain("held for review");
      const left = await gw.onTarget(
        async (sql) => (await sql`select count(*)::int as n from accounts`)[0]?.n,
      );
      expect(left).toBe(1);
    } finally {
      await psql.end();
    }
  }, 60_000);

  it("refuses a PREPAREd statement swapped behind the gateway's back by a function's dynamic SQL", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      expect((await psql.send("PREPARE x AS SELECT 1;")).stderr).toBe("");
      expect((await psql.send("EXECUTE x;")).stderr).toBe("");
      // swap_x() is volatile: held; approved, it runs once and prepares x again as a read of payroll.
      const held = await psql.send("SELECT swap_x();");
      const reviewId = /held for review ([0-9a-f-]{36})/.exec(held.stderr)?.[1];
      expect(reviewId).toBeDefined();
      await gw.decide(reviewId as string);
      expect((await psql.send("SELECT swap_x();")).stderr).not.toContain("ERROR");
      const executed = await psql.send("EXECUTE x;");
      expect(executed.stdout).not.toContain("top secret payroll");
      expect(executed.stderr).toContain("held for review");
    } finally {
      await psql.end();
    }
  }, 60_000);

  it("keeps an EXECUTE of a name the gateway never saw prepared a write", async () => {
    const psql = interactivePsql(conninfo(), process.env);
    try {
      const executed = await psql.send("EXECUTE never_prepared;");
      expect(executed.stderr).toContain("held for review");
    } finally {
      await psql.end();
    }
  }, 60_000);
});
