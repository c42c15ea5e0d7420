// Bad input against the running API on real parts (PostgreSQL store and target, real HTTP to the app's route
// handlers): unknown fields are refused by name instead of silently dropped (a typo must not weaken a setting),
// text PostgreSQL cannot hold (NUL, lone UTF-16 surrogates) is a 400 naming the problem and the attempt is still
// recorded, and a bounded fuzz over every route finds no 500.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listApiRoutes } from "@/e2e/support/routes";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "./route-server.fixture";

let gateway: GatewayFixture;
let server: RouteServer;
let adminToken: string;
let analystToken: string;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "bad-input",
    targetSql:
      "create table customers (id int primary key, email text); insert into customers values (1, 'a@b.c');",
  });
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

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function call(
  path: string,
  options: { token?: string; method?: string; body?: unknown; rawBody?: string } = {},
): Promise<Reply> {
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? (hasBody ? "POST" : "GET"),
    headers: {
      authorization: `Bearer ${options.token ?? adminToken}`,
      ...(hasBody && { "content-type": "application/json" }),
    },
    ...(hasBody && { body: options.rawBody ?? JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let body: Reply["body"] = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

const shopConnection = {
  kind: "postgres",
  host: "127.0.0.1",
  port: 5432,
  database: "shop",
  username: "app",
};

describe("unknown fields", () => {
  it("refuses approverGroups at the top level of a new connection instead of creating it without approvers", async () => {
    const reply = await call("/api/v1/connections", {
      body: { ...shopConnection, name: "typo-top", approverGroups: ["leads"] },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toBe('unknown field "approverGroups"');
    expect((await call("/api/v1/connections/typo-top")).status).toBe(404);
  });

  it("refuses a misspelled approvalsRequired instead of quietly requiring one approval", async () => {
    const reply = await call("/api/v1/connections", {
      body: {
        ...shopConnection,
        name: "typo-inner",
        approvals: { approverGroups: [], approvalsRequierd: 3 },
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toBe('approvals: unknown field "approvalsRequierd"');
    expect((await call("/api/v1/connections/typo-inner")).status).toBe(404);
  });

  it.each<[string, string, string, Record<string, unknown>, string]>([
    [
      "a person",
      "POST",
      "/api/v1/users",
      { email: "x@example.com", password: "long enough pass 1", admin: true },
      "admin",
    ],
    ["a group", "POST", "/api/v1/groups", { name: "g1", members: ["x"] }, "members"],
    ["a rule", "POST", "/api/v1/policies/rules", { name: "r", action: "deny", table: ["t"] }, "table"],
    ["a statement", "POST", "/api/v1/connections/shop/exec", { input: "select 1", rowlimit: 5 }, "rowlimit"],
    ["a check", "POST", "/api/v1/connections/shop/check", { input: "select 1", sql: "x" }, "sql"],
    ["a connection update", "PATCH", "/api/v1/connections/shop", { approvers: ["leads"] }, "approvers"],
    ["a webhook", "POST", "/api/v1/webhooks", { url: "https://example.com/h", event: ["x"] }, "event"],
    [
      "masking settings",
      "PUT",
      "/api/v1/connections/shop/masking",
      { columnRules: [{ pattern: "a", type: "email", x: 1 }] },
      "x",
    ],
  ])("refuses an unknown field in %s, by name", async (_what, method, path, body, field) => {
    const reply = await call(path, { method, body });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toContain(`unknown field "${field}"`);
  });

  it.each([
    ["/api/v1/sessions?usr=ana", "usr"],
    ["/api/v1/audit?actr=ana", "actr"],
    ["/api/v1/reviews?scope=history&stat=pending", "stat"],
    ["/api/v1/access?principl=ana", "principl"],
    ["/api/v1/access?format=json", "format"],
  ])("refuses an unknown query parameter: %s", async (path, field) => {
    const reply = await call(path);
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toContain(`unknown field "${field}"`);
  });

  it("refuses an argument an MCP tool does not take, and says which", async () => {
    const client = new Client({ name: "bad-input", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${analystToken}` } },
      }),
    );
    try {
      const reply = await client.callTool({
        name: "run_query",
        arguments: { connection: "shop", sql: "select 1", approved: true },
      });
      expect(reply.isError).toBe(true);
      expect(JSON.stringify(reply.content)).toContain("approved");
      const tools = await client.listTools();
      for (const tool of tools.tools.filter((t) => Object.keys(t.inputSchema.properties ?? {}).length > 0)) {
        expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      }
    } finally {
      await client.close();
    }
  });

  it("says additionalProperties: false for every request body object in the OpenAPI document", async () => {
    const doc = (await call("/api/v1/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const loose: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (!node || typeof node !== "object") return;
      const schema = node as Record<string, unknown>;
      if (schema.type === "object" && schema.properties && schema.additionalProperties !== false)
        loose.push(where);
      for (const [key, value] of Object.entries(schema)) walk(value, `${where}.${key}`);
    };
    let bodies = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      // RFC 6749 §3.2: the token endpoint MUST ignore unrecognized parameters (OAuth clients send extras).
      if (path === "/api/v1/oauth/token") continue;
      for (const [method, operation] of Object.entries(operations)) {
        const content = (operation as { requestBody?: { content?: Record<string, unknown> } }).requestBody
          ?.content;
        const json = content?.["application/json"];
        if (!json) continue;
        bodies++;
        walk(json, `${method.toUpperCase()} ${path}`);
      }
    }
    expect(bodies).toBeGreaterThan(20);
    expect(loose).toEqual([]);
  });
});

describe("text PostgreSQL cannot hold", () => {
  it.each([
    [
      "a NUL character",
      "select 1\u0000; drop table customers",
      "NUL",
      "select 1\\u0000; drop table customers",
    ],
    ["a lone surrogate", "select '\ud800'", "surrogate", "select '\\ud800'"],
  ])(
    "answers 400 for a statement with %s and records the blocked attempt, escaped",
    async (_what, input, named, recorded) => {
      const reply = await call("/api/v1/connections/shop/exec", { token: analystToken, body: { input } });
      expect(reply.status).toBe(400);
      expect(reply.body.error?.message).toContain(named);
      const sessionId = (reply.body.error as { details?: { sessionId?: string } }).details?.sessionId;
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const session = await call(`/api/v1/sessions/${sessionId}`);
      expect(session.status).toBe(200);
      const events = session.body.events as { type: string; data: Record<string, unknown> }[];
      const statement = events.find((e) => e.type === "statement");
      expect(statement?.data).toMatchObject({ input: recorded, decision: "deny", status: "blocked" });
      // Nothing ran: the table is still there.
      const count = await call("/api/v1/connections/shop/exec", {
        token: analystToken,
        body: { input: "select count(*) from customers" },
      });
      expect(count.status).toBe(200);
    },
  );

  it.each([
    ["a NUL character", "select 1\u0000"],
    ["a lone surrogate", "select '\udc00'"],
  ])("answers 400 for a check of a statement with %s", async (_what, input) => {
    const reply = await call("/api/v1/connections/shop/check", { token: analystToken, body: { input } });
    expect(reply.status).toBe(400);
  });

  it.each([
    ["a group name", "/api/v1/groups", { name: "a\u0000b" }],
    [
      "a person's name",
      "/api/v1/users",
      { email: "nul@example.com", name: "a\u0000", password: "long enough pass 1" },
    ],
    ["a rule message", "/api/v1/policies/rules", { name: "r\ud800", action: "deny" }],
  ])("answers 400 for %s with NUL or a lone surrogate", async (_what, path, body) => {
    const reply = await call(path, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.message).toMatch(/NUL|surrogate/);
  });

  it.each([
    ["POST", "/api/v1/connections/%00/exec", { input: "select 1" }],
    ["POST", "/api/v1/connections/%00/check", { input: "select 1" }],
    ["GET", "/api/v1/connections/%00", undefined],
    ["GET", "/api/v1/connections/%00/masking", undefined],
    ["GET", "/api/v1/sessions/%00", undefined],
    ["GET", "/api/v1/users/%00", undefined],
    ["DELETE", "/api/v1/groups/%00", undefined],
    ["GET", "/api/v1/connections/%ED%A0%80", undefined],
    ["POST", "/api/v1/connections/%/exec", { input: "select 1" }],
    ["GET", "/api/v1/connections/%", undefined],
  ])("answers a 4xx, not a 500, for %s %s", async (method, path, body) => {
    const reply = await call(path, { method, body });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
  });
});

describe("a bounded fuzz over every route", () => {
  const routes = listApiRoutes().filter((r) => !r.pattern.includes("[..."));
  const bodies: [string, string][] = [
    ["invalid JSON", '{"input": '],
    ["an array", "[1,2,3]"],
    ["a string", '"select 1"'],
    ["null", "null"],
    [
      "a huge number",
      '{"input": 1e309, "rowLimit": 1e308, "port": 99999999999999999999, "graceSeconds": -1e308}',
    ],
    ["wrong types", '{"name": ["x"], "input": {"a": 1}, "groups": "analysts", "email": 5, "enabled": "yes"}'],
    ["arrays for objects", '{"approvals": [], "terminal": [1], "styles": [], "columnRules": {"a": 1}}'],
    [
      "NUL and surrogates",
      '{"name": "a\\u0000", "input": "\\ud800", "email": "\\udfff@x", "comment": "\\u0000"}',
    ],
    ["deep nesting", `${"[".repeat(5000)}${"]".repeat(5000)}`],
  ];
  const segments = ["%00", "%F0%9F%92%A5", "%ED%A0%80", "%C0%AF", "a%2Fb", "..", "x".repeat(5000)];

  it("answers every route's bad bodies with a 4xx", async () => {
    const fivehundreds: string[] = [];
    for (const route of routes) {
      for (const method of route.methods.filter((m) => m !== "GET")) {
        for (const [what, rawBody] of bodies) {
          const reply = await call(route.path, { method, rawBody });
          if (reply.status >= 500) fivehundreds.push(`${method} ${route.path} with ${what}: ${reply.status}`);
        }
      }
    }
    expect(fivehundreds).toEqual([]);
  });

  it("answers a bad value in each documented body field, one field at a time, with a 4xx", async () => {
    const doc = (await call("/api/v1/openapi.json")).body as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>
      >;
    };
    const values: unknown[] = [1e308, -1e308, 2 ** 53 + 1, -1, "x".repeat(20_000), "", [], {}, null, true];
    const fivehundreds: string[] = [];
    let sent = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      // Ids that exist where the route needs one: the shop connection, else a well-formed unknown id.
      const path = template
        .replace("{name}", "shop")
        .replace(/\{\w+\}/g, "00000000-0000-0000-0000-000000000000");
      for (const [method, operation] of Object.entries(operations)) {
        const schema = operation.requestBody?.content?.["application/json"]?.schema as
          | { properties?: Record<string, unknown>; oneOf?: { properties?: Record<string, unknown> }[] }
          | undefined;
        const fields = new Set([
          ...Object.keys(schema?.properties ?? {}),
          ...(schema?.oneOf ?? []).flatMap((o) => Object.keys(o.properties ?? {})),
        ]);
        for (const field of fields) {
          for (const value of values) {
            const reply = await call(path, { method: method.toUpperCase(), body: { [field]: value } });
            sent++;
            if (reply.status >= 500) {
              fivehundreds.push(
                `${method.toUpperCase()} ${path} {${field}: ${JSON.stringify(value)?.slice(0, 20)}}`,
              );
            }
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(300);
    expect(fivehundreds).toEqual([]);
  }, 300_000);

  it("answers every route's odd path parameters with a 4xx", async () => {
    const fivehundreds: string[] = [];
    for (const route of routes.filter((r) => r.pattern.includes("["))) {
      for (const segment of segments) {
        const path = route.pattern.replace(/\[\w+\]/g, segment);
        for (const method of route.methods) {
          const reply = await call(path, { method, ...(method !== "GET" && { body: {} }) });
          if (reply.status >= 500) fivehundreds.push(`${method} ${path.slice(0, 120)}: ${reply.status}`);
        }
      }
    }
    expect(fivehundreds).toEqual([]);
  });
});
