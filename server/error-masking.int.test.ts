// Attacks through the target's errors and through webhook payloads, on real parts: a PostgreSQL target whose
// rows hold cards, emails, SSNs, salaries and diagnoses (salary and diagnosis masked by column rules the
// detectors cannot help with), the console's store on PostgreSQL, and a real HTTP receiver for webhooks. Every
// attempt is scanned in the reply, the stored session events and reviews, the console's log and the bodies the
// receiver got: no value of a masked column may appear in any of them.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

const CARD = "4111 1111 1111 1111";
const EMAIL = "grace.hopper@navy.example.com";
const SSN = "123-45-6789";
const SALARY = "187345";
const DIAGNOSIS = "chronic-xyzzy";
const SECRETS = [CARD, "4111111111111111", EMAIL, "grace.hopper", SSN, SALARY, "187346", DIAGNOSIS, "xyzzy"];

let gateway: GatewayFixture;
let analyst: Principal;
let admin: Principal;
const logged: string[] = [];

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "error-masking",
    targetSql: `
    create type mood as enum ('ok', 'sad');
    create table customers (id int primary key, name text, email text, card text, ssn text unique, notes text);
    insert into customers values (1, 'Grace', '${EMAIL}', '${CARD}', '${SSN}', ''), (2, 'Alan', 'a@b.example', '', '219-09-9999', '');
    create table employees (
      id int primary key, name text, salary int check (salary > 0), diagnosis text not null);
    create unique index on employees (salary);
    insert into employees values (1, 'Grace', ${SALARY}, '${DIAGNOSIS}'), (2, 'Alan', 90000, 'none');
    -- stable: a volatile function is held for review as a possible write before it could raise anything
    create function card_notice() returns int stable language plpgsql as $f$
      begin raise notice 'card %', (select card from customers where id = 1); return 1; end $f$;
    create function card_exception() returns int stable language plpgsql as $f$
      begin raise exception 'no luck with %', (select card from customers where id = 1); end $f$;
    create table grades (salary int references employees (salary));
    create table payroll (pay int) partition by range (pay);
    create table payroll_low partition of payroll for values from (0) to (1000);
    create table payouts (pay int unique);
    insert into payouts select salary from employees where id = 1;`,
  });
  const { createUser, loadPrincipal, createServiceAccount } = await import("@/server/auth");
  const account = await createServiceAccount(TEST_ACTOR, { name: "error-bot", groups: ["analysts"] });
  analyst = (await loadPrincipal(account.id, "token"))!;
  const adminId = await createUser(TEST_ACTOR, {
    email: "admin@example.com",
    password: "correct horse battery staple",
    groups: [],
    role: "admin",
  });
  admin = (await loadPrincipal(adminId, "session"))!;
  const { saveMaskingSettings } = await import("@/server/masking-config");
  const { getConnectionForUse } = await import("@/server/connections");
  const { DEFAULT_COLUMN_RULES } = await import("@/server/masking");
  await saveMaskingSettings(TEST_ACTOR, await getConnectionForUse(analyst, "shop"), {
    columnRules: [
      ...DEFAULT_COLUMN_RULES,
      { pattern: "employees.salary", type: "salary" },
      { pattern: "employees.diagnosis", type: "health" },
      { pattern: "customers.card", type: "credit_card" },
    ],
  });
  for (const level of ["log", "info", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "));
    });
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await gateway?.stop();
});

async function run(input: string, principal = analyst) {
  const { runSql } = await import("./pipeline");
  return runSql({ principal, connectionName: "shop", input, channel: "api" });
}

async function storedText(): Promise<string> {
  const raw = postgres(gateway.storeUrl, { max: 1 });
  try {
    const [events] =
      await raw`select coalesce(string_agg(data::text, E'\\n'), '') as all from session_events`;
    const [reviews] =
      await raw`select coalesce(string_agg(row_to_json(r)::text, E'\\n'), '') as all from reviews r`;
    const [deliveries] =
      await raw`select coalesce(string_agg(body, E'\\n'), '') as all from webhook_deliveries`;
    return [events?.all, reviews?.all, deliveries?.all].join("\n");
  } finally {
    await raw.end();
  }
}

function expectNoSecret(where: string, text: string, except: string[] = []) {
  for (const secret of SECRETS.filter((s) => !except.includes(s))) {
    expect(text, `${where} holds ${secret}`).not.toContain(secret);
  }
}

/**
 * Runs `body` while rules let the analysts filter on masked columns on shop (held for review by default: the
 * errors are what these tests are about) and, with `writes`, write there.
 */
async function withRules(body: () => Promise<void>, writes = false) {
  const { createRule, deleteRule } = await import("@/server/policy");
  const base = { connection: "shop", groups: ["analysts"], action: "allow" as const };
  const ids = [
    await createRule(TEST_ACTOR, { ...base, name: "conditions on masked columns", columns: ["*"] }),
  ];
  if (writes) ids.push(await createRule(TEST_ACTOR, { ...base, name: "analysts write", classes: ["write"] }));
  try {
    await body();
  } finally {
    for (const id of ids) await deleteRule(TEST_ACTOR, id);
  }
}

const withWrites = (body: () => Promise<void>) => withRules(body, true);

describe("target errors pass masking", () => {
  it.each([
    ["a card cast to a number", "select card::int from customers where id = 1", "22P02"],
    ["a card in a WHERE cast", "select id from customers where card::int = 1", "22P02"],
    ["an email cast to JSON", "select email::json from customers where id = 1", "22P02"],
    [
      "a salary glued to text and cast",
      "select (salary::text || 'x')::int from employees where id = 1",
      "22P02",
    ],
    ["a salary cast to a date", "select salary::text::date from employees where id = 1", null],
    ["a diagnosis cast to a number", "select diagnosis::int from employees where id = 1", "22P02"],
    ["a diagnosis cast to an enum", "select diagnosis::mood from employees where id = 1", "22P02"],
    [
      "a diagnosis inside JSON",
      "select jsonb_build_object('d', diagnosis)::text::int from employees",
      "22P02",
    ],
    ["an SSN cast to a number", "select ssn::numeric from customers where id = 1", "22P02"],
    [
      "a diagnosis read as a date format",
      "select to_date(diagnosis, 'YYYY') from employees where id = 1",
      null,
    ],
    ["a diagnosis cast to a uuid", "select diagnosis::uuid from employees where id = 1", "22P02"],
    ["a diagnosis cast to jsonb", "select diagnosis::jsonb from employees where id = 1", "22P02"],
    ["a diagnosis in an array cast", "select array[diagnosis]::int[] from employees where id = 1", "22P02"],
    [
      "a diagnosis as an array literal",
      "select ('{' || diagnosis || '}')::int[] from employees where id = 1",
      "22P02",
    ],
    ["a diagnosis cast to a timestamp", "select diagnosis::timestamptz from employees where id = 1", null],
    ["a diagnosis cast to inet", "select diagnosis::inet from employees where id = 1", "22P02"],
    ["a whole row cast to a number", "select (e.*)::text::int from employees e where id = 1", "22P02"],
    ["an email cast to a boolean", "select email::boolean from customers where id = 1", "22P02"],
    ["a salary squeezed into a smallint", "select salary::text::int2 from employees where id = 1", null],
  ])("hides %s quoted by a data error", async (_what, input, sqlState) => {
    let outcome: Awaited<ReturnType<typeof run>> | undefined;
    await withRules(async () => {
      outcome = await run(input);
    });
    if (!outcome) throw new Error("no outcome");
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    if (sqlState) expect(outcome.error.sqlState).toBe(sqlState);
    expect(outcome.error.message).toMatch(/\S/);
    expectNoSecret("the reply", JSON.stringify(outcome));
    expectNoSecret("the store", await storedText());
    expectNoSecret("the log", logged.join("\n"));
  });

  it.each([
    [
      "a unique SSN copied into a new row",
      "insert into customers (id, ssn) select 3, ssn from customers where id = 1",
      /Key \(ssn\)=\(\[US_SSN\]\) already exists/,
    ],
    [
      "a unique salary copied onto another row",
      "update employees set salary = (select salary from employees where id = 1) where id = 2",
      /Key \(salary\)=\(\[SALARY\]\) already exists/,
    ],
    [
      "a foreign key given a value derived from a salary",
      "insert into grades select salary + 1 from employees where id = 1",
      /Key \(salary\)=\(\[SALARY\]\) is not present in table "employees"/,
    ],
    [
      "a partition key given a salary",
      "insert into payroll select salary from employees where id = 1",
      /Partition key of the failing row contains \(pay\) = \(\[VALUE\]\)/,
    ],
    [
      "another table's unique key given a salary",
      "insert into payouts select salary from employees where id = 1",
      /Key \(pay\)=\(\[VALUE\]\) already exists/,
    ],
    [
      "a check constraint's failing row",
      "update employees set salary = -salary where id = 1",
      /Failing row contains \(1, Grace, \[SALARY\], \[HEALTH\]\)/,
    ],
    [
      "a not-null constraint's failing row",
      "update employees set diagnosis = null where id = 1",
      /Failing row contains \(1, Grace, \[SALARY\], \[HEALTH\]\)/,
    ],
  ])("masks the values of masked columns in %s", async (_what, input, detail) => {
    await withWrites(async () => {
      const outcome = await run(input);
      expect(outcome.status).toBe("failed");
      if (outcome.status !== "failed") return;
      expect(outcome.error.detail).toMatch(detail);
      expectNoSecret("the reply", JSON.stringify(outcome));
      expectNoSecret("the store", await storedText());
      expectNoSecret("the log", logged.join("\n"));
    });
  });

  it("masks a value a function raises in its own exception, and passes on no notice", async () => {
    const raised = await run("select card_exception()");
    expect(raised.status).toBe("failed");
    if (raised.status !== "failed") return;
    expect(raised.error).toMatchObject({ sqlState: "P0001" });
    expect(raised.error.message).toMatch(/^no luck with /);
    const noticed = await run("select card_notice()");
    expect(noticed.status).toBe("done");
    for (const outcome of [raised, noticed]) expectNoSecret("the reply", JSON.stringify(outcome));
    expectNoSecret("the store", await storedText());
    expectNoSecret("the log", logged.join("\n"));
  });

  it("leaves an everyday error as the target said it, with its hint", async () => {
    const typo = await run("select emial from customers");
    if (typo.status !== "failed") throw new Error("expected a failure");
    expect(typo.error.message).toBe('column "emial" does not exist');
    expect(typo.error.hint).toBe('Perhaps you meant to reference the column "customers.email".');
    const date = await run("select '2026-13-45'::date");
    if (date.status !== "failed") throw new Error("expected a failure");
    expect(date.error.hint).toBe('Perhaps you need a different "datestyle" setting.');
  });

  it("shows an unmasked column's key value, so a plain duplicate stays explained", async () => {
    await withWrites(async () => {
      const outcome = await run("insert into customers (id) values (1)");
      if (outcome.status !== "failed") throw new Error("expected a failure");
      expect(outcome.error.detail).toBe("Key (id)=(1) already exists.");
    });
  });
});

describe("over HTTP", () => {
  it("answers a data error with 422 and no value, in the reply, the session, its export and its evidence bundle", async () => {
    const { startRouteServer } = await import("@/server/http/route-server.fixture");
    const { createServiceAccount } = await import("@/server/auth");
    const server = await startRouteServer();
    const { token } = await createServiceAccount(TEST_ACTOR, { name: "http-bot", groups: ["analysts"] });
    const get = async (path: string) => {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, text: await response.text() };
    };
    try {
      const response = await fetch(`${server.url}/api/v1/connections/shop/exec`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          input: "select card::int, (salary::text || 'x')::int from customers, employees",
        }),
      });
      const text = await response.text();
      expect(response.status).toBe(422);
      expect(text).toContain("[VALUE]");
      expectNoSecret("the reply", text);
      const { sessionId } = JSON.parse(text) as { sessionId: string };
      for (const path of ["", "/export", "/evidence"]) {
        const reply = await get(`/api/v1/sessions/${sessionId}${path}`);
        expect(reply.status, path).toBe(200);
        expect(reply.text, path).toContain("[VALUE]");
        expectNoSecret(`the session${path}`, reply.text);
      }
    } finally {
      await server.close();
    }
  });
});

interface Received {
  body: string;
}

async function startReceiver() {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("webhook and Slack payloads", () => {
  it("carry held statements without their literals, through creation, approval and failure", async () => {
    const approvals = await import("@/server/approvals");
    const webhooks = await import("@/server/webhooks");
    const json = await startReceiver();
    const slack = await startReceiver();
    const secret = "whsec-test-0123456789abcdef";
    const events = ["review.created", "review.approved", "review.failed", "review.executed"] as const;
    await webhooks.createWebhook(TEST_ACTOR, { url: json.url, secret, events: [...events] });
    await webhooks.createWebhook(TEST_ACTOR, {
      url: slack.url,
      secret,
      events: [...events],
      format: "slack",
    });
    const { createUser, loadPrincipal } = await import("@/server/auth");
    const requesterId = await createUser(TEST_ACTOR, {
      email: "requester@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
      role: "member",
    });
    const requester = (await loadPrincipal(requesterId, "session"))!;
    try {
      const held = [
        `update employees set salary = ${SALARY} where name = 'Alan'`,
        `update customers set notes = 'checked' where card = '${CARD}' and email = '${EMAIL}'`,
        `delete from customers where id = 7 -- the one with ssn ${SSN}`,
      ];
      for (const input of held) {
        const outcome = await run(input, requester);
        expect(outcome.status).toBe("pending_review");
        if (outcome.status !== "pending_review") continue;
        await approvals.decideReview(admin, outcome.reviewId, "approve", "");
      }
      await webhooks.settleWebhookDeliveries();
      // each statement: created and approved, then failed (the salary is taken) or executed
      expect(json.received).toHaveLength(9);
      expect(slack.received).toHaveLength(9);
      const bodies = [...json.received, ...slack.received].map((r) => r.body).join("\n");
      expect(bodies).toContain("update employees set salary = [redacted] where name = '[redacted]'");
      expectNoSecret("a webhook body", bodies);
      // the inbox and the recording keep the statement as it was reviewed (see README: Errors and payloads)
      expectNoSecret("the stored results", await resultEvents());
    } finally {
      await json.close();
      await slack.close();
    }
  });
});

/** The errors stored in result events (the recording keeps each statement itself as it was typed). */
async function resultEvents(): Promise<string> {
  const raw = postgres(gateway.storeUrl, { max: 1 });
  try {
    const [row] =
      await raw`select coalesce(string_agg((data->'error')::text, E'\\n'), '') as all from session_events where type = 'result'`;
    return String(row?.all ?? "");
  } finally {
    await raw.end();
  }
}
