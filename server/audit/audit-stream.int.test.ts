// The audit stream on real parts (PostgreSQL store and target, the route handlers over HTTP, a real webhook
// receiver that checks signatures): an auditor pulls NDJSON from a cursor and never sees a masked value, a
// member is refused, bad cursors are 400s, and an `audit.event` endpoint receives the same lines, signed, once.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "../http/route-server.fixture";

const EMAIL = "grace.hopper@navy.example.com";
let gateway: GatewayFixture;
let server: RouteServer;
let auditorToken: string;
let memberToken: string;

type Line = Record<string, unknown> & { type: string; cursor: string };

async function pull(query: string, token = auditorToken) {
  const response = await fetch(`${server.url}/api/v1/audit/stream${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  const lines =
    response.status === 200
      ? text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Line)
      : [];
  return {
    status: response.status,
    text,
    lines,
    next: response.headers.get("x-next-cursor") ?? "",
    response,
  };
}

/** Pulls from `after` until a line passes `wanted` (session events stream once they have settled). */
async function pullUntil(after: string, wanted: (l: Line) => boolean) {
  const seen: Line[] = [];
  let cursor = after;
  let text = "";
  for (let i = 0; i < 40; i++) {
    const page = await pull(`?after=${cursor}`);
    seen.push(...page.lines);
    text += page.text;
    cursor = page.next;
    if (seen.some(wanted)) return { seen, cursor, text };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`never streamed; saw ${seen.map((l) => l.type).join(", ")}`);
}

async function exec(input: string) {
  const response = await fetch(`${server.url}/api/v1/connections/shop/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${memberToken}`, "content-type": "application/json" },
    body: JSON.stringify({ input }),
  });
  return { status: response.status, text: await response.text() };
}

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "audit-stream",
    targetSql: `create table customers (id int primary key, name text, email text);
      insert into customers values (1, 'Grace', '${EMAIL}');`,
  });
  server = await startRouteServer();
  const { createServiceAccount } = await import("@/server/auth");
  auditorToken = (await createServiceAccount(TEST_ACTOR, { name: "siem", role: "auditor" })).token;
  memberToken = (await createServiceAccount(TEST_ACTOR, { name: "reporter", groups: ["analysts"] })).token;
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

describe("pulling the audit stream", () => {
  it("streams who ran what on which connection, the decision and the masked types, never the value", async () => {
    const start = (await pull("")).next;
    const read = await exec("select name, email from customers");
    expect(read.status).toBe(200);
    const { seen, text } = await pullUntil(start, (l) => l.type === "result");
    const statement = seen.find((l) => l.type === "statement");
    expect(statement).toMatchObject({
      statement: "select name, email from customers",
      decision: "allow",
      class: "read",
      session: { who: { label: "service:reporter", kind: "service" }, connection: "shop", channel: "api" },
    });
    const result = seen.find((l) => l.type === "result");
    expect(result).toMatchObject({ status: "done", rowCount: 1, statementEventId: statement?.eventId });
    expect(result?.maskedTypes).toEqual([expect.stringMatching(/email/i)]);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain("Grace");
  });

  it("carries no credential: a connection's password, a token or a client secret never appears", async () => {
    const { createConnection } = await import("@/server/connections");
    const { createClientSecret, createServiceAccount, issueToken } = await import("@/server/auth");
    const start = (await pull("")).next;
    const password = "stream-Secret-Password-99";
    await createConnection(TEST_ACTOR, {
      kind: "postgres",
      name: "stream-secret-db",
      host: "127.0.0.1",
      port: 1,
      database: "x",
      username: "x",
      password,
      groups: [],
    });
    const account = await createServiceAccount(TEST_ACTOR, { name: "stream-secrets" });
    const issued = await issueToken(TEST_ACTOR, account.id, "second");
    const secret = await createClientSecret(TEST_ACTOR, account.id, "cs", undefined);
    const { text, seen } = await pullUntil(start, (l) => l.action === "client_secret.create");
    expect(seen.map((l) => l.action)).toEqual(
      expect.arrayContaining(["connection.create", "service_account.create", "token.create"]),
    );
    for (const value of [password, account.token, issued.token, secret.clientSecret]) {
      expect(text).not.toContain(value);
    }
  });

  it("streams a statement's shape, not its values: literals and comments are replaced", async () => {
    const start = (await pull("")).next;
    const read = await exec(
      `select name from customers where email = '${EMAIL}' /* Secret-Note-7 */ or id = 987654`,
    );
    expect(read.status).toBe(200);
    const { seen, text } = await pullUntil(start, (l) => l.type === "statement");
    const statement = String(seen.find((l) => l.type === "statement")?.statement);
    expect(statement).toMatch(/^select name from customers where email = /);
    for (const value of [EMAIL, "Secret-Note-7", "987654"]) expect(text).not.toContain(value);
  });

  it("streams a refused statement with its decision and reasons", async () => {
    const start = (await pull("")).next;
    await exec("drop table customers");
    const { seen } = await pullUntil(start, (l) => l.type === "statement");
    const statement = seen.find((l) => l.type === "statement");
    expect(statement?.decision).not.toBe("allow");
    expect(Array.isArray(statement?.reasons) && statement.reasons.length).toBeGreaterThan(0);
  });

  it("resumes after a cursor without repeating or skipping a line", async () => {
    const { createGroup } = await import("@/server/auth");
    const start = (await pull("")).next;
    for (const name of ["stream-a", "stream-b", "stream-c"]) await createGroup(TEST_ACTOR, { name });
    const first = await pull(`?after=${start}&limit=2`);
    expect(first.lines.map((l) => l.target)).toEqual(["stream-a", "stream-b"]);
    expect(first.lines[1]?.cursor).toBe(first.next);
    const rest = await pull(`?after=${first.next}`);
    expect(rest.lines.filter((l) => l.type === "audit").map((l) => l.target)).toEqual(["stream-c"]);
    expect(rest.response.headers.get("content-type")).toMatch(/application\/x-ndjson/);
  });

  it.each([
    ["?after=12", /cursor/],
    ["?after=v1.1.x", /cursor/],
    ["?after=v1.1.1;drop", /cursor/],
    ["?limit=0", /limit/],
    ["?limit=1001", /limit/],
    ["?limit=abc", /limit/],
    ["?afterr=v1.0.0", /unknown query parameter afterr/],
  ])("refuses %s with a 400 naming the problem", async (query, message) => {
    const reply = await pull(query);
    expect(reply.status).toBe(400);
    expect(reply.text).toMatch(message);
  });

  it("refuses a member's token, naming audit:read", async () => {
    const reply = await pull("", memberToken);
    expect(reply.status).toBe(403);
    expect(reply.text).toContain("missing permission audit:read");
  });
});

describe("the audit.event webhook", () => {
  const secret = "whsec-audit-0123456789abcdef";
  let receiver: Server;
  const received: { body: string; valid: boolean }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const timestamp = String(req.headers["x-portcullis-timestamp"]);
        const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
        received.push({ body, valid: req.headers["x-portcullis-signature"] === expected });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("delivers new audit events and statements, signed, once, from when the endpoint was first seen", async () => {
    const webhooks = await import("@/server/webhooks");
    const { forwardAuditStream } = await import("./forward");
    const forwarding = { subscribersOf: webhooks.webhooksFor, kick: webhooks.kickWebhookDelivery };
    const { createGroup } = await import("@/server/auth");
    await createGroup(TEST_ACTOR, { name: "before-the-endpoint" });
    const port = (receiver.address() as AddressInfo).port;
    await webhooks.createWebhook(TEST_ACTOR, {
      url: `http://127.0.0.1:${port}/audit`,
      secret,
      events: ["audit.event"],
    });
    expect(await forwardAuditStream(forwarding)).toBe(0); // first seen: starts at the end
    await createGroup(TEST_ACTOR, { name: "after-the-endpoint" });
    await exec("select name, email from customers");
    const lines: Line[] = [];
    for (let i = 0; i < 40 && !lines.some((l) => l.type === "result"); i++) {
      await forwardAuditStream(forwarding);
      await webhooks.settleWebhookDeliveries();
      lines.length = 0;
      for (const r of received) lines.push(...(JSON.parse(r.body) as { lines: Line[] }).lines);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(received.every((r) => r.valid)).toBe(true);
    expect(received.every((r) => (JSON.parse(r.body) as { event: string }).event === "audit.event")).toBe(
      true,
    );
    const targets = lines.filter((l) => l.type === "audit").map((l) => l.target);
    expect(targets).toContain("after-the-endpoint");
    expect(targets).not.toContain("before-the-endpoint");
    expect(lines.some((l) => l.type === "statement")).toBe(true);
    expect(received.map((r) => r.body).join("")).not.toContain(EMAIL);
    // Once: every line's cursor appears a single time across all deliveries.
    const cursors = lines.map((l) => l.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
  });

  it("owes each batch once when several replicas forward at the same time", async () => {
    const webhooks = await import("@/server/webhooks");
    const { forwardAuditStream } = await import("./forward");
    const forwarding = { subscribersOf: webhooks.webhooksFor, kick: webhooks.kickWebhookDelivery };
    const { createGroup } = await import("@/server/auth");
    await forwardAuditStream(forwarding);
    await webhooks.settleWebhookDeliveries();
    const before = received.length;
    for (let i = 0; i < 30; i++) await createGroup(TEST_ACTOR, { name: `race-${i}` });
    const owed = await Promise.all([
      forwardAuditStream(forwarding),
      forwardAuditStream(forwarding),
      forwardAuditStream(forwarding),
    ]);
    await webhooks.settleWebhookDeliveries();
    const lines = received
      .slice(before)
      .flatMap((r) => (JSON.parse(r.body) as { lines: Line[] }).lines)
      .filter((l) => String(l.target).startsWith("race-"));
    expect(lines.map((l) => l.target)).toEqual(Array.from({ length: 30 }, (_, i) => `race-${i}`));
    expect(owed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30);
  });
});
