// Exec on inputs and connections the target side cannot serve answers a clear refusal, never a 500: COPY to or
// from the client (the gateway carries rows, not PostgreSQL's copy protocol) is refused before anything reaches
// the target and recorded as blocked; a connection whose login the target refuses (no such user, wrong password,
// no such database) answers 502 naming the problem in words, with no credential in it. Real PostgreSQL, real HTTP.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "./route-server.fixture";

let gateway: GatewayFixture;
let server: RouteServer;
let token: string;
const WRONG_PASSWORD = "not-the-password-7f3a9c";

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "exec-target-errors",
    targetSql: `
    create table customers (id int primary key, name text, email text);
    insert into customers values (1, 'Grace', 'grace.hopper@navy.example.com');`,
  });
  const { createServiceAccount } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  const { pg } = gateway;
  const misconfigured = [
    { name: "ghost-user", username: "nobody_here", password: pg.password, database: "shop" },
    { name: "wrong-password", username: pg.user, password: WRONG_PASSWORD, database: "shop" },
    { name: "no-database", username: pg.user, password: pg.password, database: "no_such_db" },
  ];
  for (const c of misconfigured) {
    await createConnection(TEST_ACTOR, {
      kind: "postgres",
      host: pg.host,
      port: pg.port,
      groups: ["analysts"],
      ...c,
    });
  }
  token = (await createServiceAccount(TEST_ACTOR, { name: "reporter", groups: ["analysts"] })).token;
  server = await startRouteServer();
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

interface ExecReply {
  status?: string;
  sessionId: string;
  rows?: unknown[][];
  error: { code: string; message: string };
}

async function exec(connection: string, input: string) {
  const response = await fetch(`${server.url}/api/v1/connections/${connection}/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ input }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as ExecReply };
}

/** Every event recorded in a session, or in all sessions when the reply named none. */
async function recordedEvents(sessionId: string) {
  const store = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  try {
    return sessionId
      ? await store`select type, data from session_events where session_id = ${sessionId} order by id`
      : await store`select type, data from session_events order by id`;
  } finally {
    await store.end();
  }
}

/** The statement events recorded in a session, oldest first. */
async function recordedStatements(sessionId: string) {
  const store = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  try {
    return await store<{ type: string; status: string }[]>`
      select type, data->>'status' as status from session_events where session_id = ${sessionId} order by id`;
  } finally {
    await store.end();
  }
}

describe("COPY to or from the client through exec", () => {
  it.each([
    "COPY customers TO STDOUT",
    "copy customers to stdout with (format csv, header)",
    "COPY (SELECT name, email FROM customers) TO STDOUT",
    "COPY customers FROM STDIN",
    "copy customers (id, name) from stdin with (format csv)",
    "select 1; copy customers to stdout",
  ])("refuses %s before it reaches the target, and records it as blocked", async (input) => {
    const reply = await exec("shop", input);
    expect(reply.status).toBe(403);
    expect(reply.body.status).toBe("blocked");
    expect(reply.body.error.code).toBe("blocked");
    expect(reply.body.error.message).toMatch(/COPY .*not supported here/);
    expect(reply.body.error.message).toMatch(/SELECT/);
    expect(reply.text).not.toContain("grace.hopper");
    expect(await recordedStatements(reply.body.sessionId)).toEqual([
      { type: "statement", status: "blocked" },
    ]);
  });

  it("says so in the dry run (/check) too", async () => {
    const response = await fetch(`${server.url}/api/v1/connections/shop/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: "COPY customers TO STDOUT" }),
    });
    const body = (await response.json()) as { decision: string; reasons: { message: string }[] };
    expect(body.decision).toBe("deny");
    expect(body.reasons[0]?.message).toMatch(/COPY .*not supported here/);
  });

  it("still runs the SELECT the refusal points to, masked", async () => {
    const reply = await exec("shop", "SELECT name, email FROM customers");
    expect(reply.status).toBe(200);
    expect(reply.body.rows).toHaveLength(1);
    expect(reply.text).not.toContain("grace.hopper@navy.example.com");
  });
});

describe("a connection whose login the target refuses", () => {
  it.each([
    ["ghost-user", /nobody_here/],
    ["wrong-password", /password/i],
    ["no-database", /no_such_db.*does not exist/],
  ])("%s answers 502 naming the problem, with no credential in it", async (connection, problem) => {
    const reply = await exec(connection, "select 1");
    expect(reply.status).toBe(502);
    expect(reply.body.error.code).toBe("target_unavailable");
    expect(reply.body.error.message).toMatch(problem);
    expect(reply.text).not.toContain(gateway.pg.password);
    expect(reply.text).not.toContain(WRONG_PASSWORD);
    // The attempt is recorded as failed, in the same words, and with no credential either.
    const recorded = JSON.stringify(await recordedEvents(reply.body.sessionId ?? ""));
    expect(recorded).toMatch(problem);
    expect(recorded).not.toContain(gateway.pg.password);
    expect(recorded).not.toContain(WRONG_PASSWORD);
  });

  it("answers 502 for its table list (completion) as well", async () => {
    const response = await fetch(`${server.url}/api/v1/connections/ghost-user/schema`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    expect(response.status).toBe(502);
    expect(text).toMatch(/nobody_here/);
    expect(text).not.toContain(gateway.pg.password);
  });
});
