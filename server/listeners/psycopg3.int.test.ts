// psycopg 3 (Debian's python3-psycopg 3.1, over libpq) through the native listener, TLS and a service account's
// token, against a real PostgreSQL 15 target, by test/drivers/psycopg3_probe.py. Its server-side cursors: DECLARE,
// then a protocol-level Describe of the portal the DECLARE opened, then FETCHes, masked by lineage through the
// DECLARE; and its everyday paths, kept working: parameters bound server-side, prepare=True, pipeline mode, COPY
// TO STDOUT, and binary results refused with a clear reason.
import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ACTOR } from "@/test/harness/gateway";
import { type ApprovalsConsole, startApprovalsConsole } from "./approvals.fixture";

const PUBLIC_URL = "http://console.example.test";
const PROBE = path.join(process.cwd(), "test", "drivers", "psycopg3_probe.py");
let gw: ApprovalsConsole;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gw = await startApprovalsConsole({
    name: "psycopg3",
    targetSql: `create table customers (id int primary key, name text, email text, card_number text);
      insert into customers select g, 'customer ' || g, 'person' || g || '@example.com', '4111 1111 1111 1111'
        from generate_series(1, 5) g;
      create table staff (id int primary key, pay int);
      insert into staff values (1, 987654), (2, 876543);
      create table payroll (id int, secret text);
      insert into payroll values (1, 'top secret payroll');`,
    accounts: ["etl"],
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
    message: "no payroll",
  });
  await saveMaskingSettings(TEST_ACTOR, await getConnectionById(gw.connectionId), {
    columnRules: [...DEFAULT_COLUMN_RULES, { pattern: "staff.pay", type: "salary" }],
  });
}, 180_000);

afterAll(() => gw?.stop());

interface Reply {
  ok: boolean;
  text: string;
  sqlState?: string;
}

/** Runs the probe with `commands` (tab-separated fields); the first reply is the connection's. */
function psycopg3(commands: string[][]): Promise<Reply[]> {
  const conninfo = `host=127.0.0.1 port=${gw.listener.port} dbname=shop user=etl password=${gw.tokens.etl ?? ""} sslmode=require connect_timeout=10`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "/usr/bin/python3",
      [PROBE, conninfo],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`psycopg3 probe failed: ${stderr || err.message}`));
        const replies = stdout
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => {
            const [status, a = "", b = ""] = line.split("\t");
            return status === "ok" ? { ok: true, text: a } : { ok: false, sqlState: a, text: b };
          });
        resolve(replies);
      },
    );
    child.stdin?.end(`${commands.map((c) => c.join("\t")).join("\n")}\n`);
  });
}

describe("psycopg 3's server-side cursors", () => {
  it("declares, describes the cursor's portal and fetches in batches, masked by lineage through the DECLARE", async () => {
    const replies = await psycopg3([
      ["named", "2", "select id, email as contact, card_number from customers order by id"],
      ["named", "1", "select id, pay as amount from staff order by id"],
    ]);
    expect(replies).toEqual([
      { ok: true, text: "connected" },
      // Columns not of a text type are announced as text, as for a described statement (decision 0024): the
      // rows of a masked column must fit what the Describe announced.
      { ok: true, text: "rows=5 1|[EMAIL]|[CREDIT_CARD] types=str,str,str" },
      { ok: true, text: "rows=2 1|[SALARY] types=str,str" },
    ]);
  }, 120_000);

  it("refuses a cursor over a denied table at its DECLARE, and the connection goes on", async () => {
    const replies = await psycopg3([
      ["named", "10", "select secret from payroll"],
      ["execute", "select 1"],
    ]);
    expect(replies[1]).toMatchObject({ ok: false, sqlState: "42501" });
    expect(replies[1]?.text).toContain("no payroll");
    expect(JSON.stringify(replies)).not.toContain("top secret payroll");
    expect(replies[2]).toEqual({ ok: true, text: "rows=1 1" });
  }, 120_000);
});

describe("psycopg 3's everyday paths", () => {
  it("binds parameters, prepares, pipelines and copies out, masked", async () => {
    const replies = await psycopg3([
      ["param", "select email, card_number from customers where id = %s", "[1]"],
      ["prepared", "3", "select email from customers where id = %s", "[2]"],
      [
        "pipeline",
        "select email from customers where id = 3",
        "select pay from staff where id = 1",
        "select 41 + 1",
      ],
      ["copyout", "copy (select id, email from customers order by id) to stdout"],
      ["binary", "select id from customers"],
      ["execute", "select count(*) from customers"],
    ]);
    expect(replies).toEqual([
      { ok: true, text: "connected" },
      { ok: true, text: "rows=1 [EMAIL]|[CREDIT_CARD]" },
      { ok: true, text: "rows=1 [EMAIL] / rows=1 [EMAIL] / rows=1 [EMAIL]" },
      { ok: true, text: "rows=1 [EMAIL] / rows=1 [SALARY] / rows=1 42" },
      { ok: true, text: "lines=5 1|[EMAIL]" },
      {
        ok: false,
        sqlState: "0A000",
        text: "Portcullis sends results as text only: a binary result format is refused (a masked value has no binary form of its column's type)",
      },
      { ok: true, text: "rows=1 5" },
    ]);
  }, 120_000);
});
