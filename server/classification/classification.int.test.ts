// Discovered classifications end to end on real parts: a PostgreSQL target with a table of cards and emails
// under names no default rule knows, and a table with nothing sensitive; the console's store on PostgreSQL; the
// API over real HTTP. A scan proposes the columns (counts only, never a value stored or answered), an admin
// confirms one, and from the next request on the column is masked whole by that rule, even a value the
// detectors would not recognise; the setting that applies proposals at once does the same for proposals; and
// results teach the page about a column no scan has seen.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

const CARDS = [
  "4111 1111 1111 1111",
  "5500 0000 0000 0004",
  "4012 8888 8888 1881",
  "5555 5555 5555 4444",
  "4242 4242 4242 4242",
  "6011 1111 1111 1117",
];
const EMAILS = CARDS.map((_, i) => `person${i}.grace@navy.example.com`);
const VALUES = [...CARDS, ...CARDS.map((c) => c.replaceAll(" ", "")), ...EMAILS, "navy.example.com"];

let gateway: GatewayFixture;
let server: RouteServer;
let adminToken: string;
let analystToken: string;
let analyst: Principal;

beforeAll(async () => {
  const rows = CARDS.map((card, i) => `(${i + 1}, 'Person ${i}', '${card}', '${EMAILS[i]}')`).join(", ");
  gateway = await startGatewayFixture({
    name: "classification",
    targetSql: `
    create table customers (id int primary key, name text, card text, contact text);
    insert into customers values ${rows};
    create table products (id int primary key, title text, price numeric);
    insert into products select g, 'Widget ' || g, g * 2.5 from generate_series(1, 40) g;`,
  });
  const { createServiceAccount, loadPrincipal, updateUser } = await import("@/server/auth");
  const ops = await createServiceAccount(TEST_ACTOR, { name: "ops", groups: ["analysts"] });
  await updateUser(TEST_ACTOR, ops.id, { role: "admin" });
  adminToken = ops.token;
  const reporter = await createServiceAccount(TEST_ACTOR, { name: "reporter", groups: ["analysts"] });
  analystToken = reporter.token;
  analyst = (await loadPrincipal(reporter.id, "token"))!;
  server = await startRouteServer();
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

async function call<T = Record<string, unknown>>(
  path: string,
  options: { token?: string; method?: string; body?: unknown } = {},
): Promise<{ status: number; text: string; body: T }> {
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      authorization: `Bearer ${options.token ?? adminToken}`,
      ...(options.body !== undefined && { "content-type": "application/json" }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, text, body: (text ? JSON.parse(text) : {}) as T };
}

interface Classified {
  id: string;
  pattern: string;
  detectedType: string | null;
  confidence: number;
  sampledValues: number;
  sampledCounts: Record<string, number>;
  learnedCounts: Record<string, number>;
  state: string;
  type: string | null;
  isApplied: boolean;
}

interface Page {
  applyProposed: boolean;
  scan: { state: string; tablesDone: number; tablesTotal: number; tablesSkipped: number };
  classifications: Classified[];
  columnRules: { pattern: string; type: string }[];
}

const PAGE = "/api/v1/connections/shop/classification";

async function page(): Promise<Page> {
  const reply = await call<Page>(PAGE);
  expect(reply.status).toBe(200);
  expectNoValue(reply.text);
  return reply.body;
}

function expectNoValue(text: string) {
  for (const value of VALUES) expect(text).not.toContain(value);
}

async function find(pattern: string): Promise<Classified | undefined> {
  return (await page()).classifications.find((c) => c.pattern === pattern);
}

async function settle() {
  const { settleClassification } = await import("@/server/classification");
  await settleClassification();
}

async function target(sql: string) {
  const raw = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
  try {
    await raw.unsafe(sql);
  } finally {
    await raw.end();
  }
}

/** The cell of `column` in the row whose id is `id`, as the analyst reads it through the gateway. */
async function cell(sql: string, id: number): Promise<{ value: unknown; type: string | undefined }> {
  const { runSql } = await import("@/server/pipeline");
  const outcome = await runSql({ principal: analyst, connectionName: "shop", input: sql, channel: "api" });
  if (outcome.status !== "done") throw new Error(`expected a result, got ${outcome.status}`);
  const result = outcome.results[0]!;
  const row = result.rows.findIndex((r) => r[0] === id);
  return { value: result.rows[row]?.[1], type: result.masked.find(([r, c]) => r === row && c === 1)?.[2] };
}

describe("data classification", () => {
  it("starts empty, listing the hand-written column rules beside it", async () => {
    const before = await page();
    expect(before.classifications).toEqual([]);
    expect(before.scan.state).toBe("idle");
    expect(before.columnRules.map((r) => r.pattern)).toContain("*password*");
  });

  it("scans on request, proposes the card and email columns, and stores only counts", async () => {
    const started = await call<{ scan: { state: string } }>(`${PAGE}/scan`, { method: "POST" });
    expect(started.status).toBe(202);
    expect(started.body.scan.state).toBe("running");
    await settle();
    const after = await page();
    expect(after.scan).toMatchObject({ state: "done", tablesDone: 2, tablesTotal: 2, tablesSkipped: 0 });
    const card = after.classifications.find((c) => c.pattern === "public.customers.card");
    expect(card).toMatchObject({ detectedType: "credit_card", state: "proposed", isApplied: false });
    expect(card?.sampledValues).toBe(CARDS.length);
    expect(card?.sampledCounts.credit_card).toBe(CARDS.length);
    expect(card?.confidence).toBe(1);
    expect(after.classifications.find((c) => c.pattern === "public.customers.contact")).toMatchObject({
      detectedType: "email",
      state: "proposed",
    });
    // nothing found in the table without sensitive data, nor in the names
    expect(
      after.classifications.map((c) => c.pattern).filter((p) => !p.startsWith("public.customers.")),
    ).toEqual([]);
    expect(after.classifications.some((c) => c.pattern === "public.customers.name")).toBe(false);
    const raw = postgres(gateway.storeUrl, { max: 1 });
    const [stored] = await raw`select coalesce(string_agg(row_to_json(d)::text, E'\\n'), '') as all
      from data_classifications d`;
    const [audit] =
      await raw`select coalesce(string_agg(row_to_json(a)::text, E'\\n'), '') as all from audit_events a`;
    await raw.end();
    expectNoValue(String(stored?.all));
    expectNoValue(String(audit?.all));
    expect(String(audit?.all)).toContain("classification.scan");
  });

  it("masks a confirmed column whole by its rule from the next request, even a value no detector knows", async () => {
    await target("insert into customers values (100, 'Nobody', '0000-1234-5678', 'n/a')");
    // proposed only: the detectors still judge each value, so the odd one passes as it is
    expect(await cell("select id, card from customers", 100)).toEqual({
      value: "0000-1234-5678",
      type: undefined,
    });
    const card = (await find("public.customers.card"))!;
    const confirmed = await call<{ classification: Classified }>(`${PAGE}/${card.id}`, {
      body: { action: "confirm" },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.classification).toMatchObject({
      state: "confirmed",
      type: "credit_card",
      isApplied: true,
    });
    const masked = await cell("select id, card from customers", 100);
    expect(masked.type).toBe("credit_card");
    expect(masked.value).not.toContain("1234");
    // the rule lineage reads: an exact schema.table.column pattern in the connection's masking configuration
    const { maskingConfigFor } = await import("@/server/masking-config");
    const { getConnectionForUse } = await import("@/server/connections");
    const config = await maskingConfigFor((await getConnectionForUse(analyst, "shop")).id);
    expect(config.columnRules).toContainEqual({ pattern: "public.customers.card", type: "credit_card" });
  });

  it("applies proposals at once when the connection is set to, and stops when it is not", async () => {
    expect(await cell("select id, contact from customers", 100)).toEqual({ value: "n/a", type: undefined });
    const set = await call<Page>(PAGE, { method: "PUT", body: { applyProposed: true } });
    expect(set.status).toBe(200);
    expect(set.body.applyProposed).toBe(true);
    expect(set.body.classifications.find((c) => c.pattern === "public.customers.contact")?.isApplied).toBe(
      true,
    );
    expect((await cell("select id, contact from customers", 100)).type).toBe("email");
    await call(PAGE, { method: "PUT", body: { applyProposed: false } });
    expect(await cell("select id, contact from customers", 100)).toEqual({ value: "n/a", type: undefined });
  });

  it("changes a column's type on confirm, rejects and reopens, each audited", async () => {
    const contact = (await find("public.customers.contact"))!;
    const typed = await call<{ classification: Classified }>(`${PAGE}/${contact.id}`, {
      body: { action: "confirm", type: "customer_contact" },
    });
    expect(typed.body.classification).toMatchObject({ state: "confirmed", type: "customer_contact" });
    expect((await cell("select id, contact from customers", 100)).type).toBe("customer_contact");
    const rejected = await call<{ classification: Classified }>(`${PAGE}/${contact.id}`, {
      body: { action: "reject" },
    });
    expect(rejected.body.classification).toMatchObject({ state: "rejected", type: null, isApplied: false });
    expect(await cell("select id, contact from customers", 100)).toEqual({ value: "n/a", type: undefined });
    // a rejected column stays rejected through the next scan
    await call(`${PAGE}/scan`, { method: "POST" });
    await settle();
    expect((await find("public.customers.contact"))?.state).toBe("rejected");
    const reopened = await call<{ classification: Classified }>(`${PAGE}/${contact.id}`, {
      body: { action: "reopen" },
    });
    // judged again at once: still mostly emails, so proposed again
    expect(reopened.body.classification.state).toBe("proposed");
    const raw = postgres(gateway.storeUrl, { max: 1 });
    const actions =
      await raw`select action from audit_events where action like 'classification.%' order by id`;
    await raw.end();
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "classification.scan",
        "classification.confirm",
        "classification.reject",
        "classification.reopen",
        "classification.settings",
      ]),
    );
  });

  it("learns from results a column no scan has seen", async () => {
    await target(`create table leads (id int primary key, mail text);
      insert into leads values ${EMAILS.map((e, i) => `(${i + 1}, '${e}')`).join(", ")};`);
    expect(await find("public.leads.mail")).toBeUndefined();
    expect((await cell("select id, mail as m from leads", 1)).type).toBe("email");
    await settle();
    const learned = await find("public.leads.mail");
    expect(learned).toMatchObject({ detectedType: "email", state: "proposed" });
    expect(learned?.learnedCounts.email).toBe(EMAILS.length);
  });

  it("reads no more than the sample bound of a large table", async () => {
    await target(`create table subscribers (id int primary key, address text);
      insert into subscribers select g, 'subscriber' || g || '@mail.example.org' from generate_series(1, 1000) g;`);
    await call(`${PAGE}/scan`, { method: "POST" });
    await settle();
    const { getConfig } = await import("@/server/config");
    const found = await find("public.subscribers.address");
    expect(found).toMatchObject({ detectedType: "email", state: "proposed" });
    expect(found?.sampledValues).toBe(getConfig().classification.sampleRows);
    expect(found?.sampledValues).toBeLessThan(1000);
  });

  it("scans in the background a connection never scanned, and not one scanned within the interval", async () => {
    const { createConnection } = await import("@/server/connections");
    await createConnection(TEST_ACTOR, {
      kind: "postgres",
      name: "shop-copy",
      host: gateway.pg.host,
      port: gateway.pg.port,
      database: "shop",
      username: gateway.pg.user,
      password: gateway.pg.password,
      groups: ["analysts"],
    });
    const { scanDueConnections } = await import("@/server/classification");
    expect(await scanDueConnections()).toBe(1);
    const copy = await call<Page>("/api/v1/connections/shop-copy/classification");
    expect(copy.status).toBe(200);
    expect(copy.body.scan).toMatchObject({ state: "done", tablesSkipped: 0 });
    expect(copy.body.scan.tablesTotal).toBeGreaterThanOrEqual(3);
    expect(copy.body.classifications.map((c) => c.pattern)).toContain("public.customers.card");
    expect(await scanDueConnections()).toBe(0);
  });

  it.each([
    ["an unknown action", { action: "maybe" }, 400, "action"],
    [
      "a type that is not lower_snake_case",
      { action: "confirm", type: "Credit Card" },
      400,
      "lower_snake_case",
    ],
    ["a type with reject", { action: "reject", type: "email" }, 400, "only with confirm"],
  ])("answers %s with a 4xx naming the problem", async (_what, body, status, words) => {
    const card = (await find("public.customers.card"))!;
    const reply = await call<{ error: { message: string } }>(`${PAGE}/${card.id}`, { body });
    expect(reply.status).toBe(status);
    expect(reply.body.error.message).toContain(words);
  });

  it("refuses what it cannot do: unknown column, a second scan at once, a non-admin, a bad setting", async () => {
    expect((await call(`${PAGE}/no-such-id`, { body: { action: "reject" } })).status).toBe(404);
    expect((await call(PAGE, { method: "PUT", body: { applyProposed: "yes" } })).status).toBe(400);
    expect((await call(PAGE, { token: analystToken })).status).toBe(403);
    expect((await call("/api/v1/connections/nope/classification")).status).toBe(404);
    const raw = postgres(gateway.storeUrl, { max: 1 });
    await raw`update data_classification_settings set scan_state = 'running', scan_started_at = now()`;
    const second = await call<{ error: { code: string } }>(`${PAGE}/scan`, { method: "POST" });
    await raw`update data_classification_settings set scan_state = 'done'`;
    await raw.end();
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("conflict");
  });
});
