// Service accounts with roles, on real parts (PostgreSQL store and target, every route handler served over HTTP):
// every documented route works with a token that holds the permission it names and is refused, 403 naming it,
// with a token that holds every other permission; the document says what each handler enforces; and the ways a
// role could be gained or kept without the audited path are tried first as attacks.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "../http/route-server.fixture";

let gateway: GatewayFixture;
let server: RouteServer;
let store: postgres.Sql;
/** access tokens of one admin service account, each narrowed by OAuth scope */
const scoped = new Map<string, string>();

type Json = Record<string, unknown>;

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

async function accessToken(clientId: string, clientSecret: string, scope: string): Promise<string> {
  const response = await fetch(`${server.url}/api/v1/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope,
    }),
  });
  const json = (await response.json()) as { access_token?: string; error_description?: string };
  if (!json.access_token) throw new Error(`no access token for ${scope}: ${json.error_description}`);
  return json.access_token;
}

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "roles" });
  server = await startRouteServer();
  store = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  const { createClientSecret, createServiceAccount, PERMISSIONS } = await import("@/server/auth");
  const root = await createServiceAccount(TEST_ACTOR, { name: "root", role: "admin", expiresInDays: 30 });
  scoped.set("all", root.token);
  const secret = await createClientSecret(TEST_ACTOR, root.id, "roles test", 30);
  // Each permission alone, and every permission but one (or but the pair a member-or-auditor read accepts).
  for (const p of PERMISSIONS) {
    scoped.set(p, await accessToken(root.id, secret.clientSecret, p));
    scoped.set(
      `not ${p}`,
      await accessToken(root.id, secret.clientSecret, PERMISSIONS.filter((q) => q !== p).join(" ")),
    );
  }
  scoped.set(
    "not connections:use or audit:read",
    await accessToken(
      root.id,
      secret.clientSecret,
      PERMISSIONS.filter((q) => q !== "connections:use" && q !== "audit:read").join(" "),
    ),
  );
});

afterAll(async () => {
  await store?.end();
  await server?.close();
  await gateway?.stop();
});

describe("every route and the permission it names", () => {
  it("documents, for every method of every route, the permission its handler enforces", async () => {
    const { API_PATHS } = await import("@/server/http/openapi");
    const { listApiRoutes } = await import("@/e2e/support/routes");
    const routes = listApiRoutes();
    const checked: string[] = [];
    for (const { path, method, operation } of API_PATHS) {
      if (operation.isPublic) continue;
      const pattern = path.replace(/\{(\w+)\}/g, "[$1]");
      const route = routes.find((r) => r.pattern === pattern);
      expect(route, pattern).toBeDefined();
      const module = (await import(/* @vite-ignore */ route?.file ?? "")) as Record<string, unknown>;
      const handler = module[method.toUpperCase()] as { permission?: unknown } | undefined;
      expect([method, path, handler?.permission]).toEqual([method, path, operation.permission]);
      checked.push(`${method} ${path}`);
    }
    expect(checked.length).toBeGreaterThan(80);
  });

  it("works with a token holding the route's permission, and is refused 403 naming it without", async () => {
    const { API_PATHS } = await import("@/server/http/openapi");
    const { permissionText } = await import("@/server/principal");
    const sample = (path: string) =>
      path.replace("{name}", "demo").replace(/\{\w+\}/g, "00000000-0000-0000-0000-000000000000");
    const failures: string[] = [];
    for (const { path, method, operation } of API_PATHS) {
      if (operation.isPublic || !operation.permission) continue;
      const url = sample(path);
      const body = method === "get" || method === "delete" ? undefined : {};
      const wanted = [operation.permission].flat();
      const without = scoped.get(`not ${wanted.join(" or ")}`) ?? "";
      const refused = await call(method.toUpperCase(), url, without, body);
      const message = (refused.json.error as Json | undefined)?.message;
      if (refused.status !== 403 || message !== `missing permission ${permissionText(operation.permission)}`)
        failures.push(`${method} ${path} without: ${refused.status} ${String(message)}`);
      for (const permission of wanted) {
        const allowed = await call(method.toUpperCase(), url, scoped.get(permission) ?? "", body);
        const why = String((allowed.json.error as Json | undefined)?.message);
        // A route only people may call refuses a service account for what it is, not for a permission.
        const isRefusedAsService =
          operation.isForPeopleOnly === true &&
          allowed.status === 403 &&
          !why.startsWith("missing permission");
        if (isRefusedAsService) continue;
        if (allowed.status === 401 || allowed.status === 403 || allowed.status >= 500)
          failures.push(
            `${method} ${path} with ${permission}: ${allowed.status} ${JSON.stringify(allowed.json)}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("roles of service accounts", () => {
  /** role, method, path, the status it answers, the body sent */
  const cases: [string, string, string, number, unknown][] = [
    ["member", "GET", "/api/v1/sessions", 200, undefined],
    ["member", "GET", "/api/v1/audit", 403, undefined],
    ["member", "POST", "/api/v1/connections", 403, {}],
    ["auditor", "GET", "/api/v1/audit", 200, undefined],
    ["auditor", "GET", "/api/v1/sessions", 200, undefined],
    ["auditor", "GET", "/api/v1/access-reviews", 200, undefined],
    ["auditor", "GET", "/api/v1/audit/stream", 200, undefined],
    ["auditor", "GET", "/api/v1/me", 200, undefined],
    ["auditor", "POST", "/mcp", 403, { jsonrpc: "2.0", id: 1, method: "tools/list" }],
    ["auditor", "POST", "/api/v1/connections/shop/exec", 403, { input: "select 1" }],
    ["auditor", "GET", "/api/v1/connections", 403, undefined],
    ["auditor", "POST", "/api/v1/connections", 403, {}],
    ["auditor", "GET", "/api/v1/service-accounts", 403, undefined],
    ["admin", "GET", "/api/v1/service-accounts", 200, undefined],
    ["admin", "GET", "/api/v1/audit/stream", 200, undefined],
  ];
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    const { createServiceAccount } = await import("@/server/auth");
    for (const role of ["member", "auditor", "admin"] as const) {
      const created = await createServiceAccount(TEST_ACTOR, {
        name: `as-${role}`,
        role,
        groups: ["analysts"],
        ...(role === "admin" && { expiresInDays: 7 }),
      });
      tokens.set(role, created.token);
    }
  });

  it.each(cases)("a %s token: %s %s answers %i", async (role, method, path, status, body) => {
    const reply = await call(method, path, tokens.get(role) ?? "", body);
    expect(reply.status, JSON.stringify(reply.json)).toBe(status);
  });

  it("an auditor token cannot be narrowed into running statements by OAuth scope", async () => {
    const { createServiceAccount, createClientSecret } = await import("@/server/auth");
    const auditor = await createServiceAccount(TEST_ACTOR, { name: "siem", role: "auditor" });
    const secret = await createClientSecret(TEST_ACTOR, auditor.id, "siem", undefined);
    await expect(accessToken(auditor.id, secret.clientSecret, "connections:use")).rejects.toThrow(
      /connections:use/,
    );
  });
});

describe("gaining or keeping admin without the audited path (attacks)", () => {
  it("refuses a token narrowed to tokens:manage creating an admin service account", async () => {
    const reply = await call("POST", "/api/v1/service-accounts", scoped.get("tokens:manage") ?? "", {
      name: "escalated",
      role: "admin",
      expiresInDays: 7,
    });
    expect(reply.status).toBe(403);
    expect(JSON.stringify(reply.json)).toMatch(/missing .*users:manage/);
  });

  it("refuses a token narrowed to tokens:manage raising an account to auditor or admin", async () => {
    const created = await call("POST", "/api/v1/service-accounts", scoped.get("tokens:manage") ?? "", {
      name: "raise-me",
    });
    expect(created.status).toBe(201);
    for (const role of ["auditor", "admin"]) {
      const reply = await call(
        "PATCH",
        `/api/v1/service-accounts/${created.json.id}`,
        scoped.get("tokens:manage") ?? "",
        { role },
      );
      expect(reply.status, role).toBe(403);
    }
  });

  it("refuses an admin service account whose token would never expire, or live past 90 days", async () => {
    const admin = scoped.get("all") ?? "";
    for (const extra of [{}, { expiresInDays: 365 }]) {
      const reply = await call("POST", "/api/v1/service-accounts", admin, {
        name: "forever",
        role: "admin",
        ...extra,
      });
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.json)).toMatch(/must expire/);
    }
  });

  it("caps a member's never-expiring token when an admin raises the account, and audits the raise", async () => {
    const admin = scoped.get("all") ?? "";
    const created = await call("POST", "/api/v1/service-accounts", admin, { name: "ci-job" });
    const token = String(created.json.token);
    expect(created.json.expiresAt).toBeNull();
    const raised = await call("PATCH", `/api/v1/service-accounts/${created.json.id}`, admin, {
      role: "admin",
    });
    expect(raised.status).toBe(200);
    expect(raised.json).toMatchObject({ role: "admin", credentialsCapped: 1 });
    const [row] = await store`select expires_at from api_tokens where user_id = ${String(created.json.id)}`;
    expect(row?.expires_at).not.toBeNull();
    // The capped token acts as an admin now; issuing it a new never-expiring one is refused.
    expect((await call("GET", "/api/v1/service-accounts", token)).status).toBe(200);
    const issued = await call("POST", `/api/v1/service-accounts/${created.json.id}/tokens`, admin, {
      name: "forever",
    });
    expect(issued.status).toBe(400);
    const [event] = await store`
      select actor_label, details from audit_events
      where action = 'service_account.role_change' and target = 'ci-job'`;
    expect(event?.details).toMatchObject({ from: "member", to: "admin", adminCapable: true });
  });

  it("refuses an admin account's token that a hand-edited row made never expire", async () => {
    const { createServiceAccount } = await import("@/server/auth");
    const { invalidateStoreCaches } = await import("@/server/store-cache");
    const created = await createServiceAccount(TEST_ACTOR, {
      name: "edited",
      role: "admin",
      expiresInDays: 7,
    });
    expect((await call("GET", "/api/v1/service-accounts", created.token)).status).toBe(200);
    await store`update api_tokens set expires_at = null where user_id = ${created.id}`;
    await invalidateStoreCaches();
    expect((await call("GET", "/api/v1/service-accounts", created.token)).status).toBe(401);
  });

  it("refuses raising a service account through the people route", async () => {
    const { createServiceAccount } = await import("@/server/auth");
    const created = await createServiceAccount(TEST_ACTOR, { name: "sideways" });
    const reply = await call("PATCH", `/api/v1/users/${created.id}`, scoped.get("users:manage") ?? "", {
      role: "admin",
    });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.json)).toMatch(/service-accounts/);
    const [row] = await store`select role from users where id = ${created.id}`;
    expect(row?.role).toBe("member");
  });
});
