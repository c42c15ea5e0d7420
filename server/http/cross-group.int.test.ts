// A token of group A must neither see nor use anything of group B's connection, through any endpoint. The
// endpoints come from the route files themselves: every route under connections, sessions, reviews, runs and
// access (and any route with a connection parameter) must have a probe below, or this test fails, so a new
// route cannot be forgotten. A probe calls the route with B's resource and with one that does not exist: the
// two answers must be the same refusal (status and body, identifiers aside), so A cannot even tell B's
// resources exist. Lists must not mention any of B's things. Then the same for the MCP tools. Every other
// route is walked too and must not leak B's things either.
import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listApiRoutes } from "@/e2e/support/routes";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { createDatabase } from "@/test/harness/postgres";
import { type RouteServer, startRouteServer } from "./route-server.fixture";

const actor = TEST_ACTOR;
const CODENAME = "Nightjar-7731";
let gateway: GatewayFixture;
let server: RouteServer;
let tokenA: string;
let tokenB: string;
let vaultUrl: string;
const b = { connection: "vault", session: "", review: "", run: "", grant: "" };

type Resource = keyof typeof b;
interface Probe {
  /** which of B's resources the route is about (a path parameter, or the body for grant requests) */
  resource: Resource;
  body?: (id: string) => unknown;
  /** a 200 is allowed when it says nothing (e.g. cancelling a run that is not yours: { cancelled: false }) */
  quietOk?: boolean;
  /** the resource travels in the body only; the path has no parameter */
  inBodyOnly?: boolean;
}
interface ListProbe {
  list: string[];
}

const input = () => ({ input: "select codename from secrets" });
const comment = () => ({ comment: "looks fine" });

/** Every route that belongs to a connection, by "METHOD pattern". */
const CONNECTION_ROUTES: Record<string, Probe | ListProbe> = {
  "GET /api/v1/connections": { list: [""] },
  "POST /api/v1/connections": {
    resource: "connection",
    inBodyOnly: true,
    body: (name) => ({ kind: "postgres", name, host: "127.0.0.1", username: "u" }),
  },
  "GET /api/v1/connections/[name]": { resource: "connection" },
  "PATCH /api/v1/connections/[name]": { resource: "connection", body: () => ({ description: "mine now" }) },
  "DELETE /api/v1/connections/[name]": { resource: "connection" },
  "POST /api/v1/connections/[name]/test": { resource: "connection" },
  "POST /api/v1/connections/[name]/exec": { resource: "connection", body: input },
  "POST /api/v1/connections/[name]/check": { resource: "connection", body: input },
  "GET /api/v1/connections/[name]/schema": { resource: "connection" },
  "GET /api/v1/connections/[name]/history": { resource: "connection" },
  "GET /api/v1/connections/[name]/masking": { resource: "connection" },
  "PUT /api/v1/connections/[name]/masking": { resource: "connection", body: () => ({}) },
  "DELETE /api/v1/connections/[name]/masking": { resource: "connection" },
  "GET /api/v1/connections/[name]/classification": { resource: "connection" },
  "PUT /api/v1/connections/[name]/classification": {
    resource: "connection",
    body: () => ({ applyProposed: true }),
  },
  "POST /api/v1/connections/[name]/classification/scan": { resource: "connection" },
  "POST /api/v1/connections/[name]/classification/[id]": {
    resource: "connection",
    body: () => ({ action: "reject" }),
  },
  "POST /api/v1/runs/[id]/cancel": { resource: "run", quietOk: true },
  "GET /api/v1/sessions": { list: ["", "?connection=vault", "?kind=sql&channel=api"] },
  "GET /api/v1/sessions/[id]": { resource: "session" },
  "GET /api/v1/sessions/[id]/export": { resource: "session" },
  "GET /api/v1/reviews": { list: ["?scope=inbox", "?scope=mine", "?scope=history"] },
  "GET /api/v1/reviews/[id]": { resource: "review" },
  "POST /api/v1/reviews/[id]/approve": { resource: "review", body: comment },
  "POST /api/v1/reviews/[id]/deny": { resource: "review", body: comment },
  "POST /api/v1/reviews/[id]/cancel": { resource: "review", body: () => ({}) },
  "GET /api/v1/access/grants": { list: ["?scope=mine", "?scope=all"] },
  "POST /api/v1/access/grants": {
    resource: "connection",
    inBodyOnly: true,
    body: (name) => ({ connection: name, durationMinutes: 15, reason: "need it" }),
  },
  "POST /api/v1/access/grants/[id]/approve": { resource: "grant", body: comment },
  "POST /api/v1/access/grants/[id]/deny": { resource: "grant", body: comment },
  "POST /api/v1/access/grants/[id]/revoke": { resource: "grant", body: () => ({}) },
  "POST /api/v1/connections/[name]/host-key": {
    resource: "connection",
    body: () => ({ fingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
  },
  "DELETE /api/v1/connections/[name]/host-key": { resource: "connection" },
  "GET /api/v1/sessions/[id]/verify": { resource: "session" },
  "GET /api/v1/sessions/[id]/evidence": { resource: "session" },
  "GET /api/v1/sessions/[id]/replay": { resource: "session" },
  "GET /api/v1/sessions/[id]/timeline": { resource: "session" },
  "GET /api/v1/sessions/[id]/search": { resource: "session" },
  "GET /api/v1/access": { list: ["", "?connection=vault", "?format=csv"] },
  "GET /api/v1/access/questions": {
    list: [
      "?question=touched&field=email&connection=vault&since=2026-01-01",
      "?question=unapproved-writes&connection=vault",
    ],
  },
  "GET /api/v1/access/revocations": { list: [""] },
  // B has no revocation; any id of B's answers as an unknown one would
  "POST /api/v1/access/revocations/[id]/lift": { resource: "grant", body: () => ({}) },
  "PUT /api/v1/access/owners/[connection]": { resource: "connection", body: () => ({ group: "analysts" }) },
};

const routes = listApiRoutes().flatMap((r) =>
  r.methods.map((method) => ({ ...r, method, key: `${method} ${r.pattern}` })),
);
const isConnectionRoute = (pattern: string) =>
  pattern.includes("[name]") || /^\/api\/v1\/(connections|sessions|reviews|runs|access)(\/|$)/.test(pattern);

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "cross-group",
    targetSql:
      "create table customers (id int primary key, name text); insert into customers values (1, 'Grace');",
  });
  vaultUrl = await createDatabase(gateway.pg.url, "vault");
  const raw = postgres(vaultUrl, { max: 1, onnotice: () => {} });
  await raw.unsafe(
    `create table secrets (id int primary key, codename text); insert into secrets values (1, '${CODENAME}');`,
  );
  await raw.end();
  const { createGroup, createServiceAccount, createUser, loadPrincipal } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(actor, { name: "vault-team" });
  await createConnection(actor, {
    kind: "postgres",
    name: "vault",
    host: gateway.pg.host,
    port: gateway.pg.port,
    database: "vault",
    username: gateway.pg.user,
    password: gateway.pg.password,
    groups: ["vault-team"],
  });
  tokenA = (await createServiceAccount(actor, { name: "alpha", groups: ["analysts"] })).token;
  tokenB = (await createServiceAccount(actor, { name: "bravo", groups: ["vault-team"] })).token;
  server = await startRouteServer();

  // B's things: a session with a read, a held write (its review), and a person's access request for vault.
  const read = await call("POST", "/api/v1/connections/vault/exec", tokenB, {
    input: "select codename from secrets",
  });
  expect(JSON.stringify(read.body)).toContain(CODENAME);
  b.session = String(read.body.sessionId);
  const held = await call("POST", "/api/v1/connections/vault/exec", tokenB, {
    input: "update secrets set codename = 'x' where id = 1",
    sessionId: b.session,
  });
  expect(held.status).toBe(202);
  b.review = String(held.body.reviewId);
  const { requestGrant } = await import("@/server/grants");
  const bea = await loadPrincipal(
    await createUser(actor, { email: "bea@example.com", password: "bea-password-1" }),
    "session",
  );
  if (!bea) throw new Error("no principal");
  b.grant = (await requestGrant(bea, { connection: "vault", durationMinutes: 15, reason: "audit" })).id;
  b.run = randomUUID();
});

afterAll(async () => {
  await server?.close();
  await gateway?.stop();
});

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    // A redirect (the SAML sign-in routes send the browser on) is a reply like any other: read, not followed.
    redirect: "manual",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: response.status, text, body: parsed };
}

function leaksOf(text: string): string[] {
  return [CODENAME, "vault", b.session, b.review, b.grant].filter(
    (marker) => marker && text.includes(marker),
  );
}

const pathFor = (pattern: string, id: string) =>
  pattern.replace(/\[\w+\]/, encodeURIComponent(id)).replace(/\[\w+\]/g, randomUUID());

describe("a token of group A against group B's connection", () => {
  it("has a probe for every route that belongs to a connection", () => {
    const missing = routes
      .filter((r) => isConnectionRoute(r.pattern) && !(r.key in CONNECTION_ROUTES))
      .map((r) => r.key);
    expect(missing, "add a probe to CONNECTION_ROUTES for each").toEqual([]);
    const stale = Object.keys(CONNECTION_ROUTES).filter((key) => !routes.some((r) => r.key === key));
    expect(stale, "probes of routes that no longer exist").toEqual([]);
  });

  it.each(routes.filter((r) => r.key in CONNECTION_ROUTES).map((r) => [r.key, r] as const))(
    "%s: same refusal as for something that does not exist, and no leak",
    async (_key, route) => {
      const probe = CONNECTION_ROUTES[route.key] as Probe | ListProbe;
      if ("list" in probe) {
        for (const query of probe.list) {
          const reply = await call(route.method, `${route.pattern}${query}`, tokenA);
          expect(reply.status, `${route.key}${query}`).toBeLessThan(500);
          expect(leaksOf(reply.text), `${route.key}${query}`).toEqual([]);
        }
        return;
      }
      const theirs = b[probe.resource];
      const unknown = probe.resource === "connection" ? "nothing-here" : randomUUID();
      const ask = (id: string) =>
        call(
          route.method,
          probe.inBodyOnly ? route.pattern : pathFor(route.pattern, id),
          tokenA,
          probe.body?.(id),
        );
      const [forTheirs, forUnknown] = [await ask(theirs), await ask(unknown)];
      const allowed = probe.quietOk ? [200, 403, 404] : [403, 404, 409];
      expect(allowed, `${route.key}: ${forTheirs.text}`).toContain(forTheirs.status);
      expect(forTheirs.status, route.key).toBe(forUnknown.status);
      expect(forTheirs.text.replaceAll(theirs, "<id>")).toBe(forUnknown.text.replaceAll(unknown, "<id>"));
      expect(leaksOf(forTheirs.text.replaceAll(theirs, "<id>")), route.key).toEqual([]);
    },
  );

  it("cannot append to B's session through its own connection, nor cancel B's statement in flight", async () => {
    const intoTheirs = await call("POST", "/api/v1/connections/shop/exec", tokenA, {
      input: "select 1",
      sessionId: b.session,
    });
    const intoNone = await call("POST", "/api/v1/connections/shop/exec", tokenA, {
      input: "select 1",
      sessionId: randomUUID(),
    });
    expect([intoTheirs.status, intoTheirs.body]).toEqual([404, intoNone.body]);

    const runId = randomUUID();
    const running = call("POST", "/api/v1/connections/vault/exec", tokenB, {
      input: "select pg_sleep(2), 1 as done",
      runId,
    });
    const target = postgres(vaultUrl, { max: 1, onnotice: () => {} });
    for (let i = 0; i < 200; i++) {
      const [row] =
        await target`select count(*)::int as n from pg_stat_activity where query like '%pg_sleep(2)%' and pid <> pg_backend_pid()`;
      if (row?.n) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await target.end();
    const cancel = await call("POST", `/api/v1/runs/${runId}/cancel`, tokenA, {});
    expect(cancel.body).toEqual({ cancelled: false });
    expect((await running).body).toMatchObject({ status: "done" });
  });

  it("walks every other route without learning anything of B", async () => {
    for (const route of routes.filter((r) => !isConnectionRoute(r.pattern))) {
      const reply = await call(
        route.method,
        pathFor(route.pattern, randomUUID()),
        tokenA,
        route.method === "GET" ? undefined : {},
      );
      expect(reply.status, route.key).toBeLessThan(500);
      expect(leaksOf(reply.text), route.key).toEqual([]);
    }
  });

  it("sees and uses none of it through the MCP tools", async () => {
    const client = new Client({ name: "cross-group", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${tokenA}` } },
      }),
    );
    const tool = async (name: string, args: Record<string, unknown>) => {
      const result = await client.callTool({ name, arguments: args });
      return {
        isError: result.isError === true,
        text: (result.content as { text?: string }[]).map((c) => c.text ?? "").join("\n"),
      };
    };
    const listed = await tool("list_connections", {});
    expect(listed.text).toContain("shop");
    expect(leaksOf(listed.text)).toEqual([]);
    const pairs: [string, Record<string, unknown>, Record<string, unknown>, string, string][] = [
      ["describe_schema", { connection: "vault" }, { connection: "nothing-here" }, "vault", "nothing-here"],
      [
        "run_query",
        { connection: "vault", sql: "select codename from secrets" },
        { connection: "nothing-here", sql: "select codename from secrets" },
        "vault",
        "nothing-here",
      ],
    ];
    const unknownReview = randomUUID();
    pairs.push([
      "check_review",
      { reviewId: b.review },
      { reviewId: unknownReview },
      b.review,
      unknownReview,
    ]);
    for (const [name, theirs, none, theirId, noneId] of pairs) {
      const [forTheirs, forNone] = [await tool(name, theirs), await tool(name, none)];
      expect(forTheirs.isError, name).toBe(true);
      expect(forTheirs.text.replaceAll(theirId, "<id>")).toBe(forNone.text.replaceAll(noneId, "<id>"));
      expect(leaksOf(forTheirs.text.replaceAll(theirId, "<id>")), name).toEqual([]);
    }
    await client.close();
  });
});
