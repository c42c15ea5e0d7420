// Walks every API route of the console: without credentials each answers 401; with a service account token
// that lacks the permission each answers 403 naming it. A member token sees only its groups' connections.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { listApiRoutes } from "./support/routes";

/**
 * Reachable without a principal: next-auth's own endpoints, first-run setup (refuses once done), health, the
 * OpenAPI document, the OAuth token endpoint (the client secret in the request is its credential), and SAML
 * sign-in's browser endpoints (its metadata, the start, and the answer, whose signed assertion is its credential).
 */
const PUBLIC = new Set([
  "/api/auth/[...nextauth]",
  "/api/setup",
  "/api/health",
  "/api/v1/openapi.json",
  "/api/v1/oauth/token",
  "/api/auth/saml/acs",
  "/api/auth/saml/login",
  "/api/auth/saml/metadata",
]);
/** What a plain member (no admin role) may call: "METHOD pattern". */
const MEMBER_ALLOWED = new Set([
  "GET /api/v1/connections",
  "GET /api/v1/connections/[name]",
  "POST /api/v1/connections/[name]/exec",
  "POST /api/v1/connections/[name]/check",
  "GET /api/v1/connections/[name]/schema",
  "GET /api/v1/connections/[name]/history",
  "POST /api/v1/runs/[id]/cancel",
  "GET /api/v1/sessions",
  "GET /api/v1/sessions/[id]",
  "GET /api/v1/sessions/[id]/export",
  "GET /api/v1/sessions/[id]/replay",
  "GET /api/v1/sessions/[id]/timeline",
  "GET /api/v1/sessions/[id]/search",
  "GET /api/v1/sessions/[id]/verify",
  "GET /api/v1/sessions/[id]/evidence",
  "GET /api/v1/me",
  "POST /api/v1/me/sign-out-everywhere",
  "GET /api/v1/me/database-credentials",
  "POST /api/v1/me/database-credentials",
  "DELETE /api/v1/me/database-credentials/[id]",
  "GET /api/v1/reviews",
  "GET /api/v1/reviews/[id]",
  "POST /api/v1/reviews/[id]/approve",
  "POST /api/v1/reviews/[id]/deny",
  "POST /api/v1/reviews/[id]/cancel",
  "GET /api/v1/access/grants",
  "POST /api/v1/access/grants",
  "POST /api/v1/access/grants/[id]/approve",
  "POST /api/v1/access/grants/[id]/deny",
  "POST /api/v1/access/grants/[id]/revoke",
  "GET /api/v1/access-reviews",
  "GET /api/v1/access-reviews/[id]",
  "POST /api/v1/access-reviews/[id]/items/[itemId]/decide",
  "POST /api/v1/access-reviews/[id]/bulk",
]);

const routes = listApiRoutes();

async function adminRequest(baseURL: string) {
  const context = await (await import("@playwright/test")).request.newContext({ baseURL });
  const csrf = (await (await context.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const signIn = await context.post("/api/auth/callback/credentials", {
    form: { csrfToken: csrf.csrfToken, email: ADMIN.email, password: ADMIN.password, json: "true" },
  });
  expect(signIn.ok()).toBeTruthy();
  return context;
}

test("every API route refuses a caller without credentials", async ({ request }) => {
  expect(routes.length).toBeGreaterThan(10);
  for (const route of routes) {
    for (const method of route.methods) {
      const response = await request.fetch(`${e2eEnv.consoleUrl}${route.path}`, {
        method,
        headers: { "content-type": "application/json" },
        data: method === "GET" || method === "DELETE" ? undefined : {},
      });
      if (PUBLIC.has(route.pattern)) {
        expect(response.status(), `${method} ${route.pattern}`).not.toBe(500);
        continue;
      }
      expect(response.status(), `${method} ${route.pattern}`).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("unauthenticated");
      const badToken = await request.fetch(`${e2eEnv.consoleUrl}${route.path}`, {
        method,
        headers: { authorization: "Bearer ptc_not-a-real-token" },
      });
      expect(badToken.status(), `${method} ${route.pattern} with a bad token`).toBe(401);
    }
  }
});

test("a member's token gets 403 naming the permission on every admin route, and sees only its groups' connections", async ({
  request,
}) => {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  await admin.post("/api/v1/groups", { data: { name: "route-walkers" } });
  const created = await admin.post("/api/v1/service-accounts", {
    data: { name: "route-walker", groups: ["route-walkers"] },
  });
  expect(created.status()).toBe(201);
  const { token } = (await created.json()) as { token: string };
  const otherGroupOnly = await admin.post("/api/v1/connections", {
    data: {
      kind: "postgres",
      name: "other-team-db",
      host: "127.0.0.1",
      port: 1,
      database: "x",
      username: "x",
      password: "other-Secret-77",
    },
  });
  expect(otherGroupOnly.status()).toBe(201);
  const auth = { authorization: `Bearer ${token}` };

  for (const route of routes) {
    if (PUBLIC.has(route.pattern)) continue;
    for (const method of route.methods) {
      const response = await request.fetch(`${e2eEnv.consoleUrl}${route.path}`, {
        method,
        headers: { ...auth, "content-type": "application/json" },
        data: method === "GET" || method === "DELETE" ? undefined : {},
      });
      const key = `${method} ${route.pattern}`;
      if (MEMBER_ALLOWED.has(key)) {
        // Allowed through authorization: the answer is about the request itself, never 401/403/500.
        expect([200, 400, 404, 409], key).toContain(response.status());
      } else {
        expect(response.status(), key).toBe(403);
        const body = (await response.json()) as { error: { message: string } };
        expect(body.error.message).toMatch(/^missing permission \w+:\w+$/);
      }
    }
  }

  const list = await request.get(`${e2eEnv.consoleUrl}/api/v1/connections`, { headers: auth });
  const { connections } = (await list.json()) as { connections: { name: string }[] };
  expect(connections).toEqual([]);
  const hidden = await request.get(`${e2eEnv.consoleUrl}/api/v1/connections/other-team-db`, {
    headers: auth,
  });
  expect(hidden.status()).toBe(404);

  // Put the service account's group on the demo connection: now it lists exactly that one.
  await admin.patch("/api/v1/connections/demo", { data: { groups: ["analysts", "route-walkers"] } });
  const after = (await (
    await request.get(`${e2eEnv.consoleUrl}/api/v1/connections`, { headers: auth })
  ).json()) as {
    connections: { name: string }[];
  };
  expect(after.connections.map((c) => c.name)).toEqual(["demo"]);
  expect(JSON.stringify(after)).not.toContain("demo-password");

  // Revoked: refused at once.
  const accounts = (await (await admin.get("/api/v1/service-accounts")).json()) as {
    serviceAccounts: { name: string; tokens: { id: string }[] }[];
  };
  const tokenId = accounts.serviceAccounts.find((a) => a.name === "route-walker")?.tokens[0]?.id;
  expect((await admin.delete(`/api/v1/tokens/${tokenId}`)).status()).toBe(200);
  const revoked = await request.get(`${e2eEnv.consoleUrl}/api/v1/connections`, { headers: auth });
  expect(revoked.status()).toBe(401);
  await admin.dispose();
});

test("bad input gets a 4xx that names the problem", async () => {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  const notJson = await admin.post("/api/v1/groups", {
    headers: { "content-type": "application/json" },
    data: Buffer.from("{nope"),
  });
  expect(notJson.status()).toBe(400);
  expect(((await notJson.json()) as { error: { message: string } }).error.message).toContain(
    "not valid JSON",
  );
  const wrongType = await admin.post("/api/v1/groups", {
    headers: { "content-type": "text/plain" },
    data: Buffer.from("name=x"),
  });
  expect(wrongType.status()).toBe(415);
  const badPort = await admin.post("/api/v1/connections", {
    data: { kind: "postgres", name: "bad-port", host: "db", port: 70000, database: "d", username: "u" },
  });
  expect(badPort.status()).toBe(400);
  expect(((await badPort.json()) as { error: { message: string } }).error.message).toContain("port");
  const badKind = await admin.post("/api/v1/connections", {
    data: { kind: "oracle", name: "x", host: "h", username: "u" },
  });
  expect(badKind.status()).toBe(400);
  const duplicate = await admin.post("/api/v1/groups", { data: { name: "analysts" } });
  expect(duplicate.status()).toBe(409);
  const unknownGroup = await admin.post("/api/v1/users", {
    data: { email: "x@example.com", password: "long-enough-1", groups: ["nope"] },
  });
  expect(unknownGroup.status()).toBe(400);
  expect(((await unknownGroup.json()) as { error: { message: string } }).error.message).toContain(
    "unknown group: nope",
  );
  const setupAgain = await admin.post("/api/setup", {
    data: { email: "y@example.com", password: "long-enough-1" },
  });
  expect(setupAgain.status()).toBe(403);
  await admin.dispose();
});
