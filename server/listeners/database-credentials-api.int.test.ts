// The HTTP side of database credentials and of ending native sessions, through the real route handlers: strict
// bodies (a clear 400 naming the field), the listener being off (409 naming PG_LISTEN_PORT), who may do what
// (403), and what is not there (404). A person's own journey runs in e2e/native-connect.spec.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let server: RouteServer;
let adminToken: string;
let analystToken: string;

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "dbcred-api", targetSql: "create table t (id int);" });
  const { createServiceAccount, updateUser } = await import("@/server/auth");
  const ops = await createServiceAccount(TEST_ACTOR, { name: "ops" });
  await updateUser(TEST_ACTOR, ops.id, { role: "admin" });
  adminToken = ops.token;
  analystToken = (await createServiceAccount(TEST_ACTOR, { name: "reporter", groups: ["analysts"] })).token;
  server = await startRouteServer();
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

async function call(path: string, options: { token?: string; method?: string; body?: unknown } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      authorization: `Bearer ${options.token ?? analystToken}`,
      ...(options.body !== undefined && { "content-type": "application/json" }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  return { status: response.status, body };
}

const CREDENTIALS = "/api/v1/me/database-credentials";

describe("POST /api/v1/me/database-credentials", () => {
  it.each<[string, unknown, RegExp]>([
    ["an unknown field", { connection: "x", validForSeconds: 600, user: "admin" }, /unknown field "user"/],
    ["no connection", { validForSeconds: 600 }, /connection/],
    ["a validity under a minute", { connection: "x", validForSeconds: 5 }, /validForSeconds/],
    ["a fractional validity", { connection: "x", validForSeconds: 60.5 }, /validForSeconds/],
    ["a validity as text", { connection: "x", validForSeconds: "3600" }, /validForSeconds/],
  ])("refuses %s with a 400 naming it", async (_what, body, message) => {
    const reply = await call(CREDENTIALS, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toMatch(message);
  });

  it("answers 409 naming PG_LISTEN_PORT while the listener is off", async () => {
    const reply = await call(CREDENTIALS, { body: { connection: "shop", validForSeconds: 600 } });
    expect(reply.status).toBe(409);
    expect(reply.body.error?.message).toMatch(/PG_LISTEN_PORT/);
  });
});

describe("the caller's credentials", () => {
  it("lists none for a caller who has none, and says 404 for revoking one that is not theirs", async () => {
    const list = await call(CREDENTIALS);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ credentials: [] });
    const revoke = await call(`${CREDENTIALS}/no-such-credential`, { method: "DELETE" });
    expect(revoke.status).toBe(404);
  });
});

describe("DELETE /api/v1/native-sessions/{id}", () => {
  it("is for admins (connections:manage): 403 for a member, 404 for what is not a live native session", async () => {
    expect((await call("/api/v1/native-sessions/whatever", { method: "DELETE" })).status).toBe(403);
    const reply = await call("/api/v1/native-sessions/whatever", { method: "DELETE", token: adminToken });
    expect(reply.status).toBe(404);
    expect(reply.body.error?.message).toBe("no live native session with that id");
  });
});
