// Services through the API on real parts (PostgreSQL store and target, real HTTP to the app's route handlers):
// a service token reads, gets a write held, a person approves, and the token reads the result by Prefer: wait
// and by polling; OAuth 2.0 client credentials (mint, use, expiry, revocation, errors); token rotation with and
// without a grace period; and an MCP agent that follows its held query to the result.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as replies from "@/lib/api";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "./route-server.fixture";

let gateway: GatewayFixture;
let server: RouteServer;
let approver: Principal;
let reporterId: string;
let reporterToken: string;
let adminToken: string;
let opsId: string;
const actor = TEST_ACTOR;
const EMAIL = "grace.hopper@navy.example.com";

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "api",
    targetSql: `
    create table customers (id int primary key, name text, email text);
    insert into customers values (1, 'Grace', '${EMAIL}'), (2, 'Alan', 'alan@example.org');`,
  });
  const { createServiceAccount, createUser, loadPrincipal, updateUser } = await import("@/server/auth");
  const reporter = await createServiceAccount(actor, { name: "reporter", groups: ["analysts"] });
  reporterId = reporter.id;
  reporterToken = reporter.token;
  const ops = await createServiceAccount(actor, { name: "ops" });
  await updateUser(actor, ops.id, { role: "admin" });
  adminToken = ops.token;
  opsId = ops.id;
  const personId = await createUser(actor, {
    email: "approver@example.com",
    password: "correct horse battery staple",
    role: "admin",
  });
  approver = (await loadPrincipal(personId, "session")) as Principal;
  server = await startRouteServer();
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T = Record<string, unknown>>(
  path: string,
  options: {
    token?: string;
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Reply<T>> {
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...(options.body !== undefined && { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    ...(options.signal && { signal: options.signal }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

const exec = (token: string, input: string, headers?: Record<string, string>) =>
  call("/api/v1/connections/shop/exec", { token, body: { input }, headers });

/** Waits (bounded) until the process has `n` long polls in progress: the request is parked on the signal. */
async function untilLongPolls(n: number) {
  const { activeLongPolls } = await import("./long-poll");
  for (let i = 0; i < 400 && activeLongPolls() !== n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(activeLongPolls()).toBe(n);
}

async function pendingReviewOf(requester: string): Promise<string> {
  const { listReviews } = await import("@/server/approvals");
  const review = (await listReviews(approver, "inbox")).find((r) => r.requester === `service:${requester}`);
  expect(review).toBeDefined();
  return review?.id ?? "";
}

async function approve(reviewId: string, decision: "approve" | "deny" = "approve") {
  const { decideReview } = await import("@/server/approvals");
  await decideReview(approver, reviewId, decision, decision === "deny" ? "not today" : "fine");
}

describe("a service token", () => {
  it("runs a read with masked results", async () => {
    const list = await call<{ connections: { name: string }[] }>("/api/v1/connections", {
      token: reporterToken,
    });
    expect(list.body.connections.map((c) => c.name)).toEqual(["shop"]);
    replies.connectionListSchema.parse(list.body);
    const read = await exec(reporterToken, "select name, email from customers order by id");
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      status: "done",
      rows: [
        ["Grace", expect.any(String)],
        ["Alan", expect.any(String)],
      ],
    });
    expect(JSON.stringify(read.body)).not.toContain(EMAIL);
    replies.execDoneSchema.parse(read.body);
  });

  it("reads a session's events a page at a time, and refuses a bad page with 400", async () => {
    const first = await exec(reporterToken, "select 1 as one");
    const sessionId = (first.body as { sessionId: string }).sessionId;
    for (const input of ["select 2 as two", "select 3 as three"])
      await call("/api/v1/connections/shop/exec", { token: reporterToken, body: { input, sessionId } });
    type Page = { events: { id: number; type: string }[]; nextAfter?: number };
    const whole = await call<Page>(`/api/v1/sessions/${sessionId}`, { token: reporterToken });
    expect(whole.body.events.map((e) => e.type)).toEqual([
      "statement",
      "result",
      "statement",
      "result",
      "statement",
      "result",
    ]);
    expect(whole.body.nextAfter).toBeUndefined();
    const paged: number[] = [];
    let after = 0;
    for (let i = 0; i < 10; i++) {
      const page = await call<Page>(`/api/v1/sessions/${sessionId}?limit=4&after=${after}`, {
        token: reporterToken,
      });
      replies.sessionSchema.parse(page.body);
      paged.push(...page.body.events.map((e) => e.id));
      if (page.body.nextAfter === undefined) break;
      expect(page.body.events).toHaveLength(4);
      after = page.body.nextAfter;
    }
    expect(paged).toEqual(whole.body.events.map((e) => e.id));
    for (const bad of ["limit=0", "limit=5001", "after=-1", "after=x", "limit=2.5"]) {
      const refused = await call<{ error: { message: string } }>(`/api/v1/sessions/${sessionId}?${bad}`, {
        token: reporterToken,
      });
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error.message).toMatch(/^(limit|after) must be a whole number from/);
    }
  });

  it("gets a write held and, with Prefer: wait, the result once a person approves", async () => {
    const pending = exec(reporterToken, "update customers set name = 'Grace H' where id = 1", {
      prefer: "wait=30",
    });
    await untilLongPolls(1);
    await approve(await pendingReviewOf("reporter"));
    const done = await pending;
    expect(done.status).toBe(200);
    expect(done.headers.get("preference-applied")).toBe("wait=30");
    replies.execDoneSchema.parse(done.body);
    expect(done.body).toMatchObject({
      status: "done",
      reviewId: expect.any(String),
      sessionId: expect.any(String),
    });
    // One statement: its result and details at the top level, no `results` list.
    expect(done.body).toMatchObject({ command: "UPDATE", rowCount: 1 });
    expect(done.body.results).toBeUndefined();
    await untilLongPolls(0);
  });

  it("gets 202 for a held write and reads the result by polling and by waiting on the session", async () => {
    const held = await exec(reporterToken, "update customers set name = 'Alan T' where id = 2");
    expect(held.status).toBe(202);
    replies.execHeldSchema.parse(held.body);
    const { reviewId, sessionId } = held.body as { reviewId: string; sessionId: string };
    expect(reviewId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      (await call<{ review: { state: string } }>(`/api/v1/reviews/${reviewId}`, { token: reporterToken }))
        .body.review.state,
    ).toBe("pending");

    const waiting = call<{ events: { type: string; data: Record<string, unknown> }[] }>(
      `/api/v1/sessions/${sessionId}`,
      {
        token: reporterToken,
        headers: { prefer: "wait=30" },
      },
    );
    await untilLongPolls(1);
    await approve(reviewId);
    const session = await waiting;
    expect(session.headers.get("preference-applied")).toBe("wait=30");
    replies.sessionSchema.parse(session.body);
    expect(session.body.events.some((e) => e.type === "result" && e.data.reviewId === reviewId)).toBe(true);

    const polled = await call<{
      review: { state: string; result: { status: string; results: { rowCount: number }[] } };
    }>(`/api/v1/reviews/${reviewId}`, { token: reporterToken });
    expect(polled.body.review).toMatchObject({ state: "executed", result: { status: "done" } });
    expect(polled.body.review.result.results[0]?.rowCount).toBe(1);
    replies.reviewSchema.parse(polled.body);
  });

  it("waits on a review and hears a denial as 403 on exec", async () => {
    const pending = exec(reporterToken, "delete from customers where id = 2", { prefer: "wait=30" });
    await untilLongPolls(1);
    await approve(await pendingReviewOf("reporter"), "deny");
    const denied = await pending;
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ status: "denied", error: { code: "denied" } });
    replies.execRefusedSchema.parse(denied.body);
    expect((denied.body.error as { message: string }).message).toContain("not today");
  });

  it("answers 202 when the wait runs out, and leaves no waiter behind when the caller disconnects", async () => {
    const timedOut = await exec(reporterToken, "update customers set name = 'x' where id = 2", {
      prefer: "wait=1",
    });
    expect(timedOut.status).toBe(202);
    expect(timedOut.headers.get("preference-applied")).toBe("wait=1");
    const reviewId = (timedOut.body as { reviewId: string }).reviewId;

    const aborter = new AbortController();
    const gone = call(`/api/v1/reviews/${reviewId}`, {
      token: reporterToken,
      headers: { prefer: "wait=60" },
      signal: aborter.signal,
    }).catch((err: unknown) => err);
    await untilLongPolls(1);
    aborter.abort();
    expect(await gone).toBeInstanceOf(Error);
    await untilLongPolls(0);
    // The review is still there for a later poll; cancel it so later inbox lookups see one at a time.
    expect(
      (await call(`/api/v1/reviews/${reviewId}/cancel`, { token: reporterToken, body: {} })).status,
    ).toBe(200);
  });

  it("is refused at once when revoked", async () => {
    const { issueToken } = await import("@/server/auth");
    const extra = await issueToken(actor, reporterId, "short-lived");
    expect((await call("/api/v1/me", { token: extra.token })).status).toBe(200);
    expect(
      (await call(`/api/v1/tokens/${extra.tokenId}`, { token: adminToken, method: "DELETE" })).status,
    ).toBe(200);
    const refused = await call<{ error: { code: string } }>("/api/v1/me", { token: extra.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("unauthenticated");
  });
});

async function createClientSecret(): Promise<{ clientId: string; clientSecret: string; secretId: string }> {
  const created = await call<{ clientId: string; clientSecret: string; secretId: string }>(
    `/api/v1/service-accounts/${reporterId}/client-secrets`,
    { token: adminToken, body: { name: "ci" } },
  );
  expect(created.status).toBe(201);
  expect(created.body.clientSecret).toMatch(/^pcs_[A-Za-z0-9_-]{43}$/);
  expect(created.body.clientId).toBe(reporterId);
  replies.clientSecretCreatedSchema.parse(created.body);
  return created.body;
}

async function tokenRequest(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/api/v1/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

async function mint(clientId: string, clientSecret: string, scope?: string): Promise<string> {
  const reply = await tokenRequest(
    `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ""}`,
    {
      authorization: basic(clientId, clientSecret),
    },
  );
  expect(reply.status).toBe(200);
  return String(reply.body.access_token);
}

describe("OAuth 2.0 client credentials", () => {
  it("mints a short-lived access token by HTTP Basic or JSON body that works on the API", async () => {
    const { clientId, clientSecret, secretId } = await createClientSecret();
    const byBasic = await tokenRequest("grant_type=client_credentials", {
      authorization: basic(clientId, clientSecret),
    });
    expect(byBasic.status).toBe(200);
    expect(byBasic.body).toEqual({
      access_token: expect.stringMatching(/^pta_/),
      token_type: "Bearer",
      expires_in: 900,
    });
    expect(byBasic.headers.get("cache-control")).toBe("no-store");
    replies.accessTokenSchema.parse(byBasic.body);
    const access = String(byBasic.body.access_token);
    expect((await exec(access, "select count(*) from customers")).status).toBe(200);

    const byJson = await fetch(`${server.url}/api/v1/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: clientSecret,
      }),
    });
    expect(byJson.status).toBe(200);

    const listed = await call<{
      serviceAccounts: {
        id: string;
        clientSecrets: { id: string; lastUsedAt: string | null }[];
        tokens: { name: string }[];
      }[];
    }>("/api/v1/service-accounts", { token: adminToken });
    const account = listed.body.serviceAccounts.find((a) => a.id === reporterId);
    expect(account?.clientSecrets.find((s) => s.id === secretId)?.lastUsedAt).not.toBeNull();
    expect(account?.tokens.some((t) => t.name.startsWith("oauth:"))).toBe(false);
    expect(JSON.stringify(listed.body)).not.toContain(clientSecret);
    replies.serviceAccountListSchema.parse(listed.body);
  });

  it("answers errors as RFC 6749 §5.2 says", async () => {
    const { clientId, clientSecret } = await createClientSecret();
    const wrong = await tokenRequest("grant_type=client_credentials", {
      authorization: basic(clientId, `${clientSecret}x`),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("invalid_client");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    replies.oauthErrorSchema.parse(wrong.body);
    expect((await tokenRequest("grant_type=client_credentials")).body.error).toBe("invalid_client");
    const password = await tokenRequest("grant_type=password", {
      authorization: basic(clientId, clientSecret),
    });
    expect([password.status, password.body.error]).toEqual([400, "unsupported_grant_type"]);
    const missing = await tokenRequest("", { authorization: basic(clientId, clientSecret) });
    expect([missing.status, missing.body.error]).toEqual([400, "invalid_request"]);
    const both = await tokenRequest(`grant_type=client_credentials&client_id=${clientId}`, {
      authorization: basic(clientId, clientSecret),
    });
    expect([both.status, both.body.error]).toEqual([400, "invalid_request"]);
    const wider = await tokenRequest("grant_type=client_credentials&scope=users%3Amanage", {
      authorization: basic(clientId, clientSecret),
    });
    expect([wider.status, wider.body.error]).toEqual([400, "invalid_scope"]);
  });

  it("narrows a token to the scope asked for, and a 403 names what is missing", async () => {
    const { createClientSecret: create } = await import("@/server/auth");
    const opsSecret = await create(actor, opsId, "narrow", 30); // an admin's secret must expire
    const narrow = await mint(opsId, opsSecret.clientSecret, "audit:read");
    expect((await call("/api/v1/audit", { token: narrow })).status).toBe(200);
    const refused = await call<{ error: { message: string } }>("/api/v1/users", { token: narrow });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe("missing permission users:manage");
    expect((await call("/api/v1/users", { token: adminToken })).status).toBe(200);
  });

  it("access tokens expire by themselves", async () => {
    const { clientId, clientSecret } = await createClientSecret();
    vi.stubEnv("OAUTH_ACCESS_TOKEN_TTL_SECONDS", "1");
    const minted = await tokenRequest("grant_type=client_credentials", {
      authorization: basic(clientId, clientSecret),
    });
    vi.unstubAllEnvs();
    expect(minted.body.expires_in).toBe(1);
    const mintedAt = Date.now();
    while (Date.now() < mintedAt + 1100) await new Promise((r) => setTimeout(r, 100));
    expect((await call("/api/v1/me", { token: String(minted.body.access_token) })).status).toBe(401);
  });

  it("revoking the client secret kills the tokens minted with it at once", async () => {
    const { clientId, clientSecret, secretId } = await createClientSecret();
    const access = await mint(clientId, clientSecret);
    expect((await call("/api/v1/me", { token: access })).status).toBe(200);
    const revoked = await call(`/api/v1/service-accounts/${reporterId}/client-secrets/${secretId}`, {
      token: adminToken,
      method: "DELETE",
    });
    expect(revoked.status).toBe(200);
    expect((await call("/api/v1/me", { token: access })).status).toBe(401);
    const again = await tokenRequest("grant_type=client_credentials", {
      authorization: basic(clientId, clientSecret),
    });
    expect([again.status, again.body.error]).toEqual([401, "invalid_client"]);
  });

  it("disabling the account kills its access tokens", async () => {
    const { createClientSecret: create, createServiceAccount, updateUser } = await import("@/server/auth");
    const temp = await createServiceAccount(actor, { name: "temp", groups: ["analysts"] });
    const secret = await create(actor, temp.id, "ci");
    const access = await mint(temp.id, secret.clientSecret);
    expect((await call("/api/v1/me", { token: access })).status).toBe(200);
    await updateUser(actor, temp.id, { disabled: true });
    expect((await call("/api/v1/me", { token: access })).status).toBe(401);
  });

  it("rate limits failed client authentications per client id with 429 and Retry-After", async () => {
    const clientId = "00000000-0000-0000-0000-00000000dead";
    for (let i = 0; i < 10; i++) {
      expect(
        (await tokenRequest("grant_type=client_credentials", { authorization: basic(clientId, "pcs_wrong") }))
          .status,
      ).toBe(401);
    }
    const limited = await tokenRequest("grant_type=client_credentials", {
      authorization: basic(clientId, "pcs_wrong"),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("token rotation", () => {
  async function issue(): Promise<{ tokenId: string; token: string }> {
    const issued = await call<{ tokenId: string; token: string }>(
      `/api/v1/service-accounts/${reporterId}/tokens`,
      {
        token: adminToken,
        body: { name: "rotating", expiresInDays: 30 },
      },
    );
    expect(issued.status).toBe(201);
    return issued.body;
  }

  const rotate = (tokenId: string, body: Record<string, unknown>) =>
    call<{ token: string; tokenId: string; expiresAt: string; previous: Record<string, string> }>(
      `/api/v1/service-accounts/${reporterId}/tokens/${tokenId}/rotate`,
      { token: adminToken, body },
    );

  it("without a grace period revokes the old token now and shows the new one once", async () => {
    const old = await issue();
    const rotated = await rotate(old.tokenId, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body.token).toMatch(/^ptc_/);
    replies.tokenRotatedSchema.parse(rotated.body);
    expect(rotated.body.previous).toMatchObject({ tokenId: old.tokenId, revokedAt: expect.any(String) });
    expect(new Date(rotated.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect((await call("/api/v1/me", { token: old.token })).status).toBe(401);
    expect((await call("/api/v1/me", { token: rotated.body.token })).status).toBe(200);
    expect((await rotate(old.tokenId, {})).status).toBe(409);
  });

  it("with a grace period keeps the old token working until it ends, and is audited", async () => {
    const old = await issue();
    const rotated = await rotate(old.tokenId, { graceSeconds: 3600 });
    expect(rotated.body.previous).toMatchObject({ tokenId: old.tokenId, worksUntil: expect.any(String) });
    expect((await call("/api/v1/me", { token: old.token })).status).toBe(200);
    expect((await call("/api/v1/me", { token: rotated.body.token })).status).toBe(200);
    const { listAuditEvents } = await import("@/server/audit");
    const event = (await listAuditEvents()).find(
      (e) => e.action === "token.rotate" && e.details.tokenId === old.tokenId,
    );
    expect(event?.details).toMatchObject({ newTokenId: rotated.body.tokenId, graceSeconds: 3600 });
    expect((await rotate(old.tokenId, { graceSeconds: 30 * 86_400 })).status).toBe(400);
  });

  it("refuses a token of another service account, and callers without tokens:manage", async () => {
    const old = await issue();
    const other = await call(`/api/v1/service-accounts/${reporterId}x/tokens/${old.tokenId}/rotate`, {
      token: adminToken,
      body: {},
    });
    expect(other.status).toBe(404);
    const member = await call<{ error: { message: string } }>(
      `/api/v1/service-accounts/${reporterId}/tokens/${old.tokenId}/rotate`,
      { token: reporterToken, body: {} },
    );
    expect(member.status).toBe(403);
    expect(member.body.error.message).toBe("missing permission tokens:manage");
  });
});

describe("an MCP agent with an access token", () => {
  it("runs a masked query, gets a write held, and reads the result with check_review after a person approves", async () => {
    const { clientId, clientSecret } = await createClientSecret();
    const access = await mint(clientId, clientSecret);
    const client = new Client({ name: "api-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${access}` } },
      }),
    );
    const textOf = (r: Awaited<ReturnType<Client["callTool"]>>) =>
      (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n");
    const read = textOf(
      await client.callTool({
        name: "run_query",
        arguments: { connection: "shop", sql: "select email from customers" },
      }),
    );
    expect(read).not.toContain(EMAIL);
    const held = JSON.parse(
      textOf(
        await client.callTool({
          name: "run_query",
          arguments: { connection: "shop", sql: "update customers set name = 'Ada' where id = 2" },
        }),
      ),
    ) as { reviewId: string };
    const waiting = client.callTool({
      name: "check_review",
      arguments: { reviewId: held.reviewId, waitSeconds: 30 },
    });
    await untilLongPolls(1);
    await approve(held.reviewId);
    const checked = JSON.parse(textOf(await waiting)) as { state: string; result: { status: string } };
    expect(checked).toMatchObject({ state: "executed", result: { status: "done" } });
    const again = JSON.parse(
      textOf(await client.callTool({ name: "check_review", arguments: { reviewId: held.reviewId } })),
    ) as { state: string };
    expect(again.state).toBe("executed");
    await client.close();
  });
});
