// The console's own surface under attack, on real parts (PostgreSQL store and target, real HTTP through the
// same Node adapter and header/address stamping server.ts uses): cross-site requests riding on a person's
// cookie, bodies without Content-Length, password guessing, and sessions that must end. Each case is the
// attack first; the control cases show the same request passes when it is legitimate.
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NextRequest } from "next/server";
import { encode } from "next-auth/jwt";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { sendChunked } from "@/test/harness/chunked-body";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type SshdServer, startSshd } from "@/test/harness/sshd";
import type { DataRoute, WebRouteHandler } from "./node-adapter";

const PUBLIC_URL = "https://console.test:8443";
/** Under an https PUBLIC_URL, next-auth names its session cookie with the __Secure- prefix (and marks it Secure). */
const SESSION_COOKIE = "__Secure-next-auth.session-token";
const EVIL = "http://evil.example";
const ADMIN = { email: "ada@example.com", password: "ada-password-1" };
const MEMBER = { email: "bob@example.com", password: "bob-password-1" };

let gateway: GatewayFixture;
let server: Server;
let base: string;
let adminId: string;
let memberId: string;
let serviceToken: string;
let adminToken: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startGatewayFixture({
    name: "security",
    targetSql:
      "create table customers (id int primary key, name text); insert into customers values (1, 'Grace');",
  });
  const { createServiceAccount, createUser, updateUser } = await import("@/server/auth");
  adminId = await createUser(TEST_ACTOR, { ...ADMIN, role: "admin" });
  memberId = await createUser(TEST_ACTOR, { ...MEMBER, role: "member", groups: ["analysts"] });
  serviceToken = (await createServiceAccount(TEST_ACTOR, { name: "svc", groups: ["analysts"] })).token;
  const ops = await createServiceAccount(TEST_ACTOR, { name: "ops" });
  await updateUser(TEST_ACTOR, ops.id, { role: "admin" });
  adminToken = ops.token;
  // Caches on, as in the console: an ended session must be refused because the cache was cleared, not missed.
  const { startStoreCacheSignals } = await import("@/server/store-cache");
  await startStoreCacheSignals();

  // The routes under test, served the way server.ts serves the data path: streamed bodies, security headers,
  // the client's address stamped by the server.
  const handler = (module: Record<string, unknown>, method: string) => module[method] as WebRouteHandler;
  const execRoute = await import("@/app/api/v1/connections/[name]/exec/route");
  const approveRoute = await import("@/app/api/v1/reviews/[id]/approve/route");
  const meRoute = await import("@/app/api/v1/me/route");
  const meEnd = await import("@/app/api/v1/me/sign-out-everywhere/route");
  const userEnd = await import("@/app/api/v1/users/[id]/sign-out-everywhere/route");
  const userRoute = await import("@/app/api/v1/users/[id]/route");
  const usersRoute = await import("@/app/api/v1/users/route");
  const tokenRoute = await import("@/app/api/v1/oauth/token/route");
  const setupRoute = await import("@/app/api/setup/route");
  const mcpRoute = await import("@/app/mcp/route");
  const routes: DataRoute[] = [
    {
      method: "POST",
      pattern: /^\/api\/v1\/connections\/(?<name>[^/]+)\/exec$/,
      handler: handler(execRoute, "POST"),
    },
    {
      method: "POST",
      pattern: /^\/api\/v1\/reviews\/(?<id>[^/]+)\/approve$/,
      handler: handler(approveRoute, "POST"),
    },
    { method: "GET", pattern: /^\/api\/v1\/me$/, handler: handler(meRoute, "GET") },
    { method: "POST", pattern: /^\/api\/v1\/me\/sign-out-everywhere$/, handler: handler(meEnd, "POST") },
    {
      method: "POST",
      pattern: /^\/api\/v1\/users\/(?<id>[^/]+)\/sign-out-everywhere$/,
      handler: handler(userEnd, "POST"),
    },
    { method: "PATCH", pattern: /^\/api\/v1\/users\/(?<id>[^/]+)$/, handler: handler(userRoute, "PATCH") },
    { method: "DELETE", pattern: /^\/api\/v1\/users\/(?<id>[^/]+)$/, handler: handler(userRoute, "DELETE") },
    { method: "POST", pattern: /^\/api\/v1\/users$/, handler: handler(usersRoute, "POST") },
    { method: "POST", pattern: /^\/api\/v1\/oauth\/token$/, handler: handler(tokenRoute, "POST") },
    { method: "POST", pattern: /^\/api\/setup$/, handler: handler(setupRoute, "POST") },
    { method: "POST", pattern: /^\/mcp$/, handler: handler(mcpRoute, "POST") },
  ];

  const { dispatchDataRoute } = await import("./node-adapter");
  const { applySecurityHeaders, securityHeaders } = await import("./security-headers");
  const { stampClientAddress } = await import("./client-address");
  const { handleUpgrade } = await import("@/server/realtime");
  await import("@/server/terminal/socket");
  server = createServer((req, res) => {
    applySecurityHeaders(res, securityHeaders({ dev: false }));
    stampClientAddress(req, 0);
    if (dispatchDataRoute(routes, req, res)) return;
    res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (!handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  const { stopStoreCacheSignals } = await import("@/server/store-cache");
  await stopStoreCacheSignals();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await gateway?.stop();
});

/** A session cookie as next-auth issues it at sign-in: the user id and the person's current epoch. */
async function signedInCookie(userId: string): Promise<string> {
  const { getConfig } = await import("@/server/config");
  const { currentSessionEpoch } = await import("@/server/auth/sessions");
  const token = await encode({
    token: { uid: userId, epoch: await currentSessionEpoch(userId) },
    secret: getConfig().authSecret,
  });
  return `${SESSION_COOKIE}=${token}`;
}

interface Reply {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

async function call(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, {
    method: options.method ?? "POST",
    headers: options.headers,
    ...(options.body !== undefined && { body: options.body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** What the console's own pages send with a change: their origin and JSON. */
const fromConsole = { origin: PUBLIC_URL, "content-type": "application/json" };

async function heldReview(): Promise<string> {
  const held = await call("/api/v1/connections/shop/exec", {
    headers: { authorization: `Bearer ${serviceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ input: "update customers set name = 'Mallory' where id = 1" }),
  });
  expect(held.status).toBe(202);
  return held.body.reviewId as string;
}

async function customerName(): Promise<string> {
  const sql = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ name: string }[]>`select name from customers where id = 1`;
    return row?.name ?? "";
  } finally {
    await sql.end();
  }
}

async function reviewState(id: string): Promise<string> {
  const { getReview } = await import("@/server/approvals");
  const { loadPrincipal } = await import("@/server/auth");
  const admin = await loadPrincipal(adminId, "session");
  if (!admin) throw new Error("no admin");
  return ((await getReview(admin, id)) as { state: string }).state;
}

describe("a cross-site request riding on a person's cookie", () => {
  const attacks: { name: string; headers: Record<string, string>; code: string }[] = [
    {
      name: "an empty form post from another origin",
      headers: { origin: EVIL, "content-type": "application/x-www-form-urlencoded" },
      code: "cross_site",
    },
    {
      name: "a JSON post from another origin",
      headers: { origin: EVIL, "content-type": "application/json" },
      code: "cross_site",
    },
    {
      name: "a form post from the console's own origin (a same-site page cannot send JSON without CORS)",
      headers: { origin: PUBLIC_URL, "content-type": "text/plain" },
      code: "unsupported_media_type",
    },
    {
      name: "a post with no Origin and a cross-site fetch",
      headers: { "sec-fetch-site": "same-site", "content-type": "application/json" },
      code: "cross_site",
    },
    {
      name: "a form post with no Origin and no Sec-Fetch-Site (an old browser)",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      code: "unsupported_media_type",
    },
    {
      name: "an empty post with no type at all",
      headers: { origin: PUBLIC_URL },
      code: "unsupported_media_type",
    },
    { name: "a post from an opaque origin", headers: { origin: "null" }, code: "cross_site" },
  ];

  it.each(attacks)("does not approve a held write: $name", async ({ headers, code }) => {
    const reviewId = await heldReview();
    const reply = await call(`/api/v1/reviews/${reviewId}/approve`, {
      headers: { cookie: await signedInCookie(adminId), ...headers },
    });
    expect(reply.status).toBe(code === "cross_site" ? 403 : 415);
    expect(reply.body.error?.code).toBe(code);
    expect(await reviewState(reviewId)).toBe("pending");
    expect(await customerName()).toBe("Grace");
  });

  it("approves from the console's own page (Origin, or Sec-Fetch-Site without one), JSON even when empty", async () => {
    const first = await heldReview();
    const approved = await call(`/api/v1/reviews/${first}/approve`, {
      headers: { cookie: await signedInCookie(adminId), ...fromConsole },
    });
    expect(approved.status).toBe(200);
    expect(await reviewState(first)).not.toBe("pending");
    const second = await heldReview();
    const bySecFetch = await call(`/api/v1/reviews/${second}/approve`, {
      headers: {
        cookie: await signedInCookie(adminId),
        "sec-fetch-site": "same-origin",
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(bySecFetch.status).toBe(200);
  });

  it("leaves bearer-token callers alone, whatever Origin and type they send", async () => {
    const reviewId = await heldReview();
    const reply = await call(`/api/v1/reviews/${reviewId}/approve`, {
      headers: { authorization: `Bearer ${adminToken}`, origin: EVIL },
    });
    // The token is an admin service account: it may decide; what matters is that it was not refused as cross-site.
    expect(reply.body.error?.code).not.toBe("cross_site");
    expect(reply.status).not.toBe(415);
  });

  it("refuses a DELETE from another origin (a script there gets no CORS preflight, but refuse it anyway)", async () => {
    const { createUser } = await import("@/server/auth");
    const victimId = await createUser(TEST_ACTOR, { email: "erin@example.com", password: "erin-password-1" });
    const reply = await call(`/api/v1/users/${victimId}`, {
      method: "DELETE",
      headers: { cookie: await signedInCookie(adminId), origin: EVIL },
    });
    expect(reply.status).toBe(403);
    expect(reply.body.error?.code).toBe("cross_site");
    const rows = await storeSql<{ id: string }>(`select id from users where id = '${victimId}'`);
    expect(rows).toHaveLength(1);
  });

  it("refuses the fast data path (exec) from another origin", async () => {
    const reply = await call("/api/v1/connections/shop/exec", {
      headers: { cookie: await signedInCookie(memberId), origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ input: "select name from customers" }),
    });
    expect(reply.status).toBe(403);
    expect(reply.body.error?.code).toBe("cross_site");
  });

  it("refuses MCP with a cookie from another origin", async () => {
    const reply = await call("/mcp", {
      headers: {
        cookie: await signedInCookie(memberId),
        origin: EVIL,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(reply.status).toBe(403);
    expect(reply.body.error?.code).toBe("cross_site");
  });

  it("refuses first-run setup posted by a browser on another origin, before anything else", async () => {
    const reply = await call("/api/setup", {
      headers: { origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ email: "eve@example.com", password: "eve-password-123" }),
    });
    expect(reply.status).toBe(403);
    expect(reply.body.error?.code).toBe("cross_site");
  });

  it("refuses a terminal socket opened from another origin", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/ws/terminal?connection=shop`, {
        headers: { cookie: "", origin: EVIL },
      });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("opened")));
      ws.on("error", () => {});
    });
    expect(status).toBe(403);
  });

  it("marks session cookies Secure when PUBLIC_URL is https, and reads no plain-named one", async () => {
    const { getAuthOptions } = await import("@/server/auth");
    expect(getAuthOptions().useSecureCookies).toBe(true);
    const valid = await signedInCookie(memberId);
    expect((await call("/api/v1/me", { method: "GET", headers: { cookie: valid } })).status).toBe(200);
    const plain = valid.replace(`${SESSION_COOKIE}=`, "next-auth.session-token=");
    expect((await call("/api/v1/me", { method: "GET", headers: { cookie: plain } })).status).toBe(401);
  });

  it("sends the security headers with every reply, refusals included", async () => {
    const reply = await call("/api/v1/me", { method: "GET" });
    expect(reply.status).toBe(401);
    expect(reply.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
    expect(reply.headers.get("referrer-policy")).toBe("same-origin");
  });
});

describe("a body without Content-Length", () => {
  const TOTAL = 300 * 1024 * 1024;
  const LIMIT = 16 * 1024 * 1024;
  const cases: { path: string; headers: Record<string, string> }[] = [
    { path: "/api/v1/oauth/token", headers: { "content-type": "application/x-www-form-urlencoded" } },
    { path: "/api/setup", headers: { "content-type": "application/json" } },
    { path: "/api/v1/users", headers: { "content-type": "application/json", authorization: "bearer:admin" } },
    {
      path: "/api/v1/connections/shop/exec",
      headers: { "content-type": "application/json", authorization: "bearer:service" },
    },
    {
      path: "/mcp",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: "bearer:service",
      },
    },
  ];

  it.each(cases)("is refused with 413 at the limit, not read whole: $path", async ({ path, headers }) => {
    const authorization =
      headers.authorization === "bearer:admin"
        ? `Bearer ${adminToken}`
        : headers.authorization === "bearer:service"
          ? `Bearer ${serviceToken}`
          : undefined;
    const before = process.memoryUsage().arrayBuffers;
    const reply = await sendChunked(`${base}${path}`, TOTAL, {
      ...headers,
      ...(authorization ? { authorization } : {}),
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: "payload_too_large" } });
    expect(reply.sentBeforeReply).toBeLessThan(LIMIT);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(LIMIT * 4);
  });

  it("is refused at the limit by the sign-in routes, which read their own form", async () => {
    const { POST } = await import("@/app/api/auth/[...nextauth]/route");
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 64 * 1024;
        if (pulled > TOTAL) controller.close();
        else controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const request = new NextRequest(`${PUBLIC_URL}/api/auth/callback/credentials`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      duplex: "half",
    } as ConstructorParameters<typeof NextRequest>[1]);
    const response = await POST(request, {
      params: Promise.resolve({ nextauth: ["callback", "credentials"] }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "payload_too_large" } });
    expect(pulled).toBeLessThan(LIMIT);
  });
});

type Authorize = (
  credentials: Record<string, string>,
  req: { headers: Record<string, string> },
) => Promise<{ id: string } | null>;

async function authorizeFn(): Promise<Authorize> {
  const { getAuthOptions } = await import("@/server/auth");
  const provider = getAuthOptions().providers.find((p) => p.id === "credentials") as unknown as {
    options: { authorize: Authorize };
  };
  return provider.options.authorize;
}

/** One password sign-in from `address`: "ok", "wrong", or the throttle's refusal. */
async function signIn(email: string, password: string, address: string): Promise<string> {
  const authorize = await authorizeFn();
  try {
    const user = await authorize(
      { email, password },
      { headers: { "x-portcullis-client-address": address } },
    );
    return user ? "ok" : "wrong";
  } catch (err) {
    return (err as Error).message;
  }
}

async function storeSql<T extends object>(text: string): Promise<T[]> {
  const sql = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

/** The wait runs out (the test moves the store's clock for it instead of sleeping). */
const waitRunsOut = () => storeSql("update sign_in_failures set blocked_until = now() - interval '1 second'");

describe("password guessing", () => {
  it("refuses the right password too once an account is being guessed, and lets it in after the wait", async () => {
    const results: string[] = [];
    for (let i = 0; i < 8; i++) results.push(await signIn(ADMIN.email, `guess-${i}`, "203.0.113.1"));
    expect(results.slice(0, 6)).toEqual(Array(6).fill("wrong"));
    expect(results.slice(6)).toEqual([
      expect.stringMatching(/^Throttled:\d+$/),
      expect.stringMatching(/^Throttled:/),
    ]);
    // From another address too: the count is the account's, in the store every replica reads.
    expect(await signIn(ADMIN.email, ADMIN.password, "198.51.100.7")).toMatch(/^Throttled:/);
    await waitRunsOut();
    expect(await signIn(ADMIN.email, ADMIN.password, "198.51.100.7")).toBe("ok");
    const rows = await storeSql<{ key: string }>(
      `select key from sign_in_failures where key like 'account:%'`,
    );
    expect(rows).toEqual([]);
  });

  it("counts an account's guesses together whatever the email's case", async () => {
    const email = "Case.Sensitive@Example.com";
    const results: string[] = [];
    for (let i = 0; i < 7; i++) {
      const spelled = i % 2 === 0 ? email.toLowerCase() : email.toUpperCase();
      results.push(await signIn(spelled, `guess-${i}`, `203.0.113.${10 + i}`));
    }
    expect(results.slice(0, 6)).toEqual(Array(6).fill("wrong"));
    expect(results[6]).toMatch(/^Throttled:/);
    await waitRunsOut();
  });

  it("admits only the free attempts of a burst of parallel guesses", async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => signIn(MEMBER.email, `burst-${i}`, "203.0.113.2")),
    );
    const admitted = results.filter((r) => r === "wrong").length;
    expect(admitted).toBeLessThanOrEqual(6);
    expect(results.filter((r) => r.startsWith("Throttled:")).length).toBe(30 - admitted);
    await waitRunsOut();
  });

  it("throttles an address that tries many accounts", async () => {
    const results: string[] = [];
    for (let i = 0; i < 23; i++) results.push(await signIn(`nobody-${i}@example.com`, "x", "203.0.113.3"));
    expect(results.filter((r) => r === "wrong").length).toBe(21);
    expect(results.at(-1)).toMatch(/^Throttled:/);
    // Another address is not slowed down by this one.
    expect(await signIn(MEMBER.email, MEMBER.password, "203.0.113.4")).toBe("ok");
    await waitRunsOut();
  });

  it("never locks an account for more than a minute, however many failures", async () => {
    await storeSql(
      `insert into sign_in_failures (key, failures, last_failure_at) values ('account:${ADMIN.email}', 100000, now())
       on conflict (key) do update set failures = 100000, blocked_until = null, last_failure_at = now()`,
    );
    expect(await signIn(ADMIN.email, "wrong-again", "203.0.113.5")).toBe("wrong");
    const refusal = await signIn(ADMIN.email, ADMIN.password, "203.0.113.5");
    const seconds = Number(/^Throttled:(\d+)$/.exec(refusal)?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    await waitRunsOut();
    expect(await signIn(ADMIN.email, ADMIN.password, "203.0.113.5")).toBe("ok");
  });

  it("writes an audit event when an account's attempts start to wait", async () => {
    const rows = await storeSql<{ details: { by: string } }>(
      `select details from audit_events where action = 'auth.signin_throttled'`,
    );
    expect(rows.map((r) => r.details.by)).toContain("account");
    expect(rows.map((r) => r.details.by)).toContain("address");
  });
});

/** next-auth's sign-out event for a session of `userId` signed in under `epoch` (default: the current one). */
async function signOutWith(userId: string, epoch?: number) {
  const { getAuthOptions } = await import("@/server/auth");
  const { currentSessionEpoch } = await import("@/server/auth/sessions");
  const token = { uid: userId, epoch: epoch ?? (await currentSessionEpoch(userId)) };
  await getAuthOptions().events?.signOut?.({ token, session: {} } as never);
}

describe("a session that ends", () => {
  const me = (cookie: string) => call("/api/v1/me", { method: "GET", headers: { cookie } });
  const execAs = (cookie: string) =>
    call("/api/v1/connections/shop/exec", {
      headers: { cookie, ...fromConsole },
      body: JSON.stringify({ input: "select 1" }),
    });
  const admin = (path: string, method: string, body?: unknown) =>
    call(path, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });

  const changes: { name: string; change: () => Promise<unknown> }[] = [
    {
      name: "an admin changes their password",
      change: () => admin(`/api/v1/users/${memberId}`, "PATCH", { password: "bob-password-2" }),
    },
    {
      name: "an admin changes their role",
      change: () => admin(`/api/v1/users/${memberId}`, "PATCH", { role: "admin" }),
    },
    {
      name: "an admin signs them out everywhere",
      change: () => admin(`/api/v1/users/${memberId}/sign-out-everywhere`, "POST"),
    },
    {
      name: "they sign out (in another browser)",
      change: () => signOutWith(memberId),
    },
    {
      name: "they sign out everywhere themselves",
      change: async () =>
        call("/api/v1/me/sign-out-everywhere", {
          headers: { cookie: await signedInCookie(memberId), ...fromConsole },
        }),
    },
  ];

  it.each(changes)(
    "refuses the old cookie on the API, the data path and the terminal when $name",
    async ({ change }) => {
      const old = await signedInCookie(memberId);
      expect((await me(old)).status).toBe(200);
      expect((await execAs(old)).status).toBe(200);
      await change();
      expect((await me(old)).status).toBe(401);
      expect((await execAs(old)).status).toBe(401);
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}/ws/terminal?connection=shop`, {
          headers: { cookie: old },
        });
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => reject(new Error("opened with an ended session")));
        ws.on("error", () => {});
      });
      expect(status).toBe(401);
      // Signing in again works.
      expect((await me(await signedInCookie(memberId))).status).toBe(200);
    },
  );

  it("closes a live-events socket opened before the session ended, at its next message", async () => {
    const cookie = await signedInCookie(memberId);
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/events`, { headers: { cookie } });
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => resolve());
      ws.on("error", reject);
    });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    ws.send("ping");
    await vi.waitFor(() => expect(messages.some((m) => m.includes("pong"))).toBe(true));
    await admin(`/api/v1/users/${memberId}/sign-out-everywhere`, "POST");
    ws.send("ping");
    expect(await closed).toBe(4401);
    expect(messages.filter((m) => m.includes("pong"))).toHaveLength(1);
  });

  it("signs nobody out with a cookie that had already ended (a stolen old one)", async () => {
    const { currentSessionEpoch } = await import("@/server/auth/sessions");
    const stale = (await currentSessionEpoch(memberId)) - 1;
    const current = await signedInCookie(memberId);
    await signOutWith(memberId, stale);
    expect((await me(current)).status).toBe(200);
  });

  it("refuses the old cookie when another replica ends the sessions (NOTIFY clears this one's cache)", async () => {
    const cookie = await signedInCookie(memberId);
    expect((await me(cookie)).status).toBe(200);
    expect((await me(cookie)).status).toBe(200); // now served from this process's cache
    // Another process on the same store ends the sessions, as a second replica would.
    execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        "./scripts/server-only-hook.mjs",
        "--input-type=module",
        "-e",
        `const { endSessions } = await import("@/server/auth");
         await endSessions({ id: null, label: "replica-b" }, ${JSON.stringify(memberId)});
         process.exit(0);`,
      ],
      {
        env: { ...process.env, DATABASE_URL: gateway.storeUrl, DATA_DIR: gateway.dataDir },
        stdio: "inherit",
      },
    );
    // Well within the cache's 10 s lifetime: only the notification explains the refusal.
    await vi.waitFor(async () => expect((await me(cookie)).status).toBe(401), { timeout: 5000 });
  });

  it("refuses a cookie issued before sessions could end (no epoch in it)", async () => {
    const { getConfig } = await import("@/server/config");
    const token = await encode({ token: { uid: memberId }, secret: getConfig().authSecret });
    expect((await me(`${SESSION_COOKIE}=${token}`)).status).toBe(401);
  });

  it("refuses the old cookie once the person is disabled or deleted", async () => {
    const { createUser } = await import("@/server/auth");
    const carolId = await createUser(TEST_ACTOR, {
      email: "carol@example.com",
      password: "carol-password-1",
    });
    const old = await signedInCookie(carolId);
    expect((await me(old)).status).toBe(200);
    await admin(`/api/v1/users/${carolId}`, "PATCH", { disabled: true });
    expect((await me(old)).status).toBe(401);
    await admin(`/api/v1/users/${carolId}`, "PATCH", { disabled: false });
    expect((await me(old)).status).toBe(401);
    const fresh = await signedInCookie(carolId);
    expect((await me(fresh)).status).toBe(200);
    expect((await admin(`/api/v1/users/${carolId}`, "DELETE")).status).toBe(200);
    expect((await me(fresh)).status).toBe(401);
  });

  it("audits sign out everywhere", async () => {
    const rows = await storeSql<{ action: string }>(
      `select action from audit_events where action = 'user.sessions_ended'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });
});

describe("an open terminal whose session ends", () => {
  let sshd: SshdServer;
  beforeAll(async () => {
    sshd = await startSshd();
    const { addTestBox } = await import("@/server/terminal/terminal-fixtures");
    await addTestBox(sshd, "analysts");
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it("runs nothing more once the person's sessions are ended, and says why", async () => {
    const { createUser } = await import("@/server/auth");
    const userId = await createUser(TEST_ACTOR, {
      email: "dave@example.com",
      password: "dave-password-1",
      groups: ["analysts"],
    });
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/terminal?connection=box&cols=80&rows=24`, {
      headers: { cookie: await signedInCookie(userId), origin: base },
    });
    let output = "";
    const controls: { type: string; message?: string }[] = [];
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    ws.on("message", (data, isBinary) => {
      if (isBinary) output += Buffer.from(data as Buffer).toString("utf8");
      else controls.push(JSON.parse(data.toString()));
    });
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 400 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(what()).toBe(true);
    };
    await until(() => controls.some((c) => c.type === "ready"));
    ws.send(JSON.stringify({ type: "input", data: "echo before-$((40+2))\r" }));
    await until(() => output.includes("before-42"));

    const ended = await call(`/api/v1/users/${userId}/sign-out-everywhere`, {
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    });
    expect(ended.status).toBe(200);
    ws.send(JSON.stringify({ type: "input", data: "echo after-$((40+3))\r" }));
    expect(await closed).toBe(1008);
    expect(controls.at(-1)).toMatchObject({ type: "error", message: expect.stringContaining("ended") });
    expect(output).not.toContain("after-43");
  });
});
