// The data-path dispatch (server.ts hands POST .../exec and .../check to their route modules through the Node
// adapter) answers exactly like the route handler does under Next: for each case the same request goes through
// a Node HTTP server with the adapter and straight to the exported handler, and status and body must agree.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import type { WebRouteHandler } from "./node-adapter";

let gateway: GatewayFixture;
let server: Server;
let base: string;
let exec: WebRouteHandler;
let check: WebRouteHandler;

beforeAll(async () => {
  process.env.RATE_LIMIT_PER_MINUTE = "4";
  gateway = await startGatewayFixture({
    name: "dispatch",
    targetSql: "create table items (id int, email text); insert into items values (1, 'ada@example.com');",
  });
  exec = (await import("@/app/api/v1/connections/[name]/exec/route")).POST;
  check = (await import("@/app/api/v1/connections/[name]/check/route")).POST;
  const { dispatchDataRoute } = await import("./node-adapter");
  const routes = [
    { method: "POST", pattern: /^\/api\/v1\/connections\/(?<name>[^/]+)\/exec$/, handler: exec },
    { method: "POST", pattern: /^\/api\/v1\/connections\/(?<name>[^/]+)\/check$/, handler: check },
  ];
  server = createServer((req, res) => {
    if (dispatchDataRoute(routes, req, res)) return;
    res.writeHead(418).end("not dispatched");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await gateway?.stop();
});

let accounts = 0;
/** A fresh token per case: each has its own rate-limit bucket of 4 requests a minute. */
async function newToken(): Promise<string> {
  const { createServiceAccount } = await import("@/server/auth");
  return (await createServiceAccount(TEST_ACTOR, { name: `bot-${++accounts}`, groups: ["analysts"] })).token;
}

interface Case {
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Drops what differs between two runs of the same statement (ids, timings). */
function stable(body: string): unknown {
  return JSON.parse(body, (key, value) =>
    key === "sessionId" || key === "durationMs" ? "(varies)" : (value as unknown),
  );
}

async function both(c: Case) {
  const init = { method: "POST", headers: c.headers, ...(c.body !== undefined && { body: c.body }) };
  const viaAdapter = await fetch(`${base}${c.path}`, init);
  const [, name, verb] = /^\/api\/v1\/connections\/([^/]+)\/(exec|check)$/.exec(c.path) ?? [];
  const handler = verb === "exec" ? exec : check;
  const direct = await handler(new Request(`http://localhost${c.path}`, init), {
    params: Promise.resolve({ name: decodeURIComponent(name ?? "") }),
  });
  const adapted = { status: viaAdapter.status, body: await viaAdapter.text() };
  const expected = { status: direct.status, body: await direct.text() };
  expect(adapted.status).toBe(expected.status);
  expect(stable(adapted.body)).toEqual(stable(expected.body));
  expect(viaAdapter.headers.get("content-type")).toBe(direct.headers.get("content-type"));
  return { status: adapted.status, body: stable(adapted.body) as Record<string, unknown> };
}

const json = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

describe("data-path dispatch", () => {
  it("runs a statement and returns the masked result (200)", async () => {
    const r = await both({
      path: "/api/v1/connections/shop/exec",
      headers: json(await newToken()),
      body: JSON.stringify({ input: "select id, email from items" }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "done", rows: [[1, expect.not.stringContaining("ada@")]] });
  });

  it("answers a dry run (200)", async () => {
    const r = await both({
      path: "/api/v1/connections/shop/check",
      headers: json(await newToken()),
      body: JSON.stringify({ input: "delete from items" }),
    });
    expect(r).toMatchObject({ status: 200, body: { decision: "review" } });
  });

  it.each([
    ["400 for a body that is not valid JSON", "{nope", 400],
    ["400 for a body the schema refuses", JSON.stringify({ input: 42 }), 400],
    [
      "403 for a statement the policy denies",
      JSON.stringify({ input: "select pg_read_file('/etc/passwd')" }),
      403,
    ],
    ["422 for a statement the target refuses", JSON.stringify({ input: "select * from missing_table" }), 422],
  ])("answers %s", async (_name, body, status) => {
    const r = await both({ path: "/api/v1/connections/shop/exec", headers: json(await newToken()), body });
    expect(r.status).toBe(status);
  });

  it("answers 401 without credentials and with an unknown token", async () => {
    const body = JSON.stringify({ input: "select 1" });
    const anonymous = await both({ path: "/api/v1/connections/shop/exec", headers: {}, body });
    expect(anonymous.status).toBe(401);
    const unknown = await both({ path: "/api/v1/connections/shop/exec", headers: json("ptc_unknown"), body });
    expect(unknown.status).toBe(401);
  });

  it("answers 404 for a connection the caller cannot see, with an escaped name", async () => {
    const r = await both({
      path: "/api/v1/connections/no%20such/exec",
      headers: json(await newToken()),
      body: JSON.stringify({ input: "select 1" }),
    });
    expect(r).toMatchObject({ status: 404, body: { error: { message: "no connection named no such" } } });
  });

  it.each(["%", "%zz", "%ED%A0%80", "%C0%AF"])(
    "answers 400 in the API's error shape for a malformed escape in the name (%s), itself",
    async (name) => {
      const r = await fetch(`${base}/api/v1/connections/${name}/exec`, {
        method: "POST",
        headers: json(await newToken()),
        body: JSON.stringify({ input: "select 1" }),
      });
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({
        error: { code: "bad_request", message: "the name in the path is not valid percent-encoded UTF-8" },
      });
    },
  );

  it("answers 413 for a body over 1 MiB and 415 for a body that is not JSON", async () => {
    const token = await newToken();
    const big = await both({
      path: "/api/v1/connections/shop/exec",
      headers: json(token),
      body: JSON.stringify({ input: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(big.status).toBe(413);
    const text = await both({
      path: "/api/v1/connections/shop/exec",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body: "select 1",
    });
    expect(text.status).toBe(415);
  });

  it("reads a body sent in chunks without a length (streamed to the handler) like one with a length", async () => {
    const token = await newToken();
    const body = JSON.stringify({ input: "select id from items" });
    const chunked = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/api/v1/connections/shop/exec`,
        { method: "POST", headers: json(token) },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (c: Buffer) => parts.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }),
          );
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 20);
    });
    expect(chunked.status).toBe(200);
    expect(JSON.parse(chunked.text)).toMatchObject({ status: "done", rows: [[1]] });
  });

  it("shares the rate limit with Next's copy of the modules: 429 once the token's bucket is empty", async () => {
    const token = await newToken();
    const request = { method: "POST", headers: json(token), body: JSON.stringify({ input: "select 1" }) };
    const statuses: number[] = [];
    // Alternate the adapter and the handler: one bucket per token, whichever way the request came.
    for (let i = 0; i < 3; i++) {
      statuses.push((await fetch(`${base}/api/v1/connections/shop/check`, request)).status);
      statuses.push(
        (
          await check(new Request("http://localhost/api/v1/connections/shop/check", request), {
            params: Promise.resolve({ name: "shop" }),
          })
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const limited = await fetch(`${base}/api/v1/connections/shop/exec`, request);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("leaves other paths and methods to Next", async () => {
    expect((await fetch(`${base}/api/v1/connections/shop/exec`)).status).toBe(418);
    expect((await fetch(`${base}/api/v1/connections/shop/exec/`, { method: "POST" })).status).toBe(418);
    expect((await fetch(`${base}/api/v1/connections`, { method: "POST" })).status).toBe(418);
  });
});
