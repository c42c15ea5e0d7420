import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let http: Server;
let url: URL;
let token: string;
const actor = TEST_ACTOR;
const EMAIL = "grace.hopper@navy.example.com";

/** Node request → web Request → handler → node response. */
async function forward(req: IncomingMessage, res: ServerResponse) {
  const { handleMcpRequest } = await import("./handler");
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && chunks.length > 0;
  const response = await handleMcpRequest(
    new Request(new URL(req.url ?? "/", url), {
      method: req.method,
      headers,
      ...(hasBody && { body: Buffer.concat(chunks) }),
    }),
  );
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "mcp",
    targetSql: `
    create table customers (id int primary key, name text, email text);
    insert into customers values (1, 'Grace', '${EMAIL}'), (2, 'Alan', 'alan@example.org');`,
  });
  const { createServiceAccount, issueToken } = await import("@/server/auth");
  const account = await createServiceAccount(actor, { name: "agent", groups: ["analysts"] });
  token = (await issueToken(actor, account.id, "mcp")).token;
  http = createServer((req, res) => {
    forward(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
});

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
  await gateway?.stop();
});

async function connectClient(bearer: string) {
  const client = new Client({ name: "mcp-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { Authorization: `Bearer ${bearer}` } },
    }),
  );
  return client;
}

function textOf(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const content = result.content as { type: string; text?: string }[];
  return content.map((c) => c.text ?? "").join("\n");
}

describe("MCP endpoint", () => {
  it("refuses calls without a valid bearer token with 401 JSON", async () => {
    const bare = await fetch(url, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error: { code: "unauthenticated" } });
    await expect(connectClient("pc_not_a_token")).rejects.toThrow();
  });

  it("answers GET with 405 since the endpoint is stateless", async () => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    });
    expect(response.status).toBe(405);
  });

  it("lists the tools and the caller's connections", async () => {
    const client = await connectClient(token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      "check_review",
      "describe_schema",
      "list_connections",
      "run_query",
    ]);
    expect(textOf(await client.callTool({ name: "list_connections", arguments: {} }))).toContain('"shop"');
    const schema = textOf(
      await client.callTool({ name: "describe_schema", arguments: { connection: "shop" } }),
    );
    expect(schema).toContain("customers");
    await client.close();
  });

  it("runs a read with emails masked", async () => {
    const client = await connectClient(token);
    const result = await client.callTool({
      name: "run_query",
      arguments: { connection: "shop", sql: "select name, email from customers order by id" },
    });
    expect(result.isError).toBeFalsy();
    const body = textOf(result);
    expect(body).toContain("Grace");
    expect(body).not.toContain(EMAIL);
    expect(body).not.toContain("alan@example.org");
    expect(JSON.parse(body)).toMatchObject({ status: "done" });
    await client.close();
  });

  it("holds a write for review and reports its state", async () => {
    const client = await connectClient(token);
    const held = JSON.parse(
      textOf(
        await client.callTool({
          name: "run_query",
          arguments: { connection: "shop", sql: "update customers set name = 'x' where id = 2" },
        }),
      ),
    ) as { status: string; reviewId: string; message: string };
    expect(held.status).toBe("pending_review");
    expect(held.reviewId).toMatch(/^[0-9a-f-]{36}$/);
    expect(held.message).toMatch(/^held for approval: /);
    const review = JSON.parse(
      textOf(await client.callTool({ name: "check_review", arguments: { reviewId: held.reviewId } })),
    ) as { state: string };
    expect(review.state).toBe("pending");
    await client.close();
  });

  it("returns the reasons when a statement is blocked", async () => {
    const client = await connectClient(token);
    const result = await client.callTool({
      name: "run_query",
      arguments: { connection: "shop", sql: "select pg_read_file('/etc/passwd')" },
    });
    expect(result.isError).toBe(true);
    expect(JSON.parse(textOf(result))).toMatchObject({ status: "blocked" });
    await client.close();
  });
});
