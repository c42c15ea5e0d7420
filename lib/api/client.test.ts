// The fetchers against a real HTTP server: what path each one puts on the wire for hostile names, that a name
// never adds, removes or climbs a segment, that refusals surface the server's message, and that a reply of the
// wrong shape is refused without echoing its values.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ApiError,
  accessReviewsApi,
  apiPath,
  classificationApi,
  connectionsApi,
  execApi,
  grantsApi,
  groupsApi,
  pathSegment,
  reviewsApi,
  rulesApi,
  runsApi,
  serviceAccountsApi,
  sessionsApi,
  usersApi,
  webhooksApi,
} from "./index";

let server: Server;
let origin: string;
const seen: { method: string; url: string }[] = [];
let reply: { status: number; body: unknown } = {
  status: 404,
  body: { error: { code: "not_found", message: "no such thing" } },
};

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "" });
    req.resume();
    res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.length = 0;
  reply = { status: 404, body: { error: { code: "not_found", message: "no such thing" } } };
  vi.unstubAllGlobals();
});

/** The page's origin, as in the browser: relative API paths resolve against it. */
function onPage() {
  vi.stubGlobal("location", { origin });
}

/** Calls and returns the request line's path the server received (the call itself is refused with a 404). */
async function pathOf(call: () => Promise<unknown>): Promise<string> {
  onPage();
  await expect(call()).rejects.toMatchObject({ status: 404, message: "no such thing" });
  expect(seen).toHaveLength(1);
  return seen[0]?.url ?? "";
}

const HOSTILE: [string, string][] = [
  ["a/b", "a%2Fb"],
  ["%2F", "%252F"],
  ["?x", "%3Fx"],
  ["#x", "%23x"],
  ["%2e%2e", "%252e%252e"],
  ["...", "..."],
  ["a b", "a%20b"],
  ["ünï", "%C3%BCn%C3%AF"],
];

// Every fetcher that puts a name or id in its path, with where it goes.
const FETCHERS: [string, (name: string) => Promise<unknown>, (segment: string) => string][] = [
  ["connections.update", (n) => connectionsApi.update(n, {}), (s) => `/api/v1/connections/${s}`],
  ["connections.remove", (n) => connectionsApi.remove(n), (s) => `/api/v1/connections/${s}`],
  ["connections.test", (n) => connectionsApi.test(n), (s) => `/api/v1/connections/${s}/test`],
  [
    "connections.trustHostKey",
    (n) => connectionsApi.trustHostKey(n, "SHA256:x"),
    (s) => `/api/v1/connections/${s}/host-key`,
  ],
  ["connections.masking", (n) => connectionsApi.masking(n), (s) => `/api/v1/connections/${s}/masking`],
  ["connections.check", (n) => connectionsApi.check(n, "select 1"), (s) => `/api/v1/connections/${s}/check`],
  ["connections.catalog", (n) => connectionsApi.catalog(n), (s) => `/api/v1/connections/${s}/schema`],
  ["connections.history", (n) => connectionsApi.history(n), (s) => `/api/v1/connections/${s}/history`],
  ["connections.setOwner", (n) => connectionsApi.setOwner(n, null), (s) => `/api/v1/access/owners/${s}`],
  [
    "classification.decide",
    (n) => classificationApi.decide(n, n, { action: "confirm" }),
    (s) => `/api/v1/connections/${s}/classification/${s}`,
  ],
  ["reviews.get", (n) => reviewsApi.get(n), (s) => `/api/v1/reviews/${s}`],
  ["reviews.decide", (n) => reviewsApi.decide(n, "deny", ""), (s) => `/api/v1/reviews/${s}/deny`],
  ["runs.cancel", (n) => runsApi.cancel(n), (s) => `/api/v1/runs/${s}/cancel`],
  ["sessions.replayAt", (n) => sessionsApi.replayAt(n, 3), (s) => `/api/v1/sessions/${s}/replay?at=3`],
  ["sessions.search", (n) => sessionsApi.search(n, n), (s) => `/api/v1/sessions/${s}/search?q=`],
  ["rules.update", (n) => rulesApi.update(n, {}), (s) => `/api/v1/policies/rules/${s}`],
  [
    "users.signOutEverywhere",
    (n) => usersApi.signOutEverywhere(n),
    (s) => `/api/v1/users/${s}/sign-out-everywhere`,
  ],
  ["groups.addMember", (n) => groupsApi.addMember(n, "u1"), (s) => `/api/v1/groups/${s}/members`],
  [
    "webhooks.retryDelivery",
    (n) => webhooksApi.retryDelivery(n, n),
    (s) => `/api/v1/webhooks/${s}/deliveries/${s}/retry`,
  ],
  [
    "serviceAccounts.rotateToken",
    (n) => serviceAccountsApi.rotateToken(n, n, 0),
    (s) => `/api/v1/service-accounts/${s}/tokens/${s}/rotate`,
  ],
  ["serviceAccounts.revokeToken", (n) => serviceAccountsApi.revokeToken(n), (s) => `/api/v1/tokens/${s}`],
  [
    "grants.liftRevocation",
    (n) => grantsApi.liftRevocation(n),
    (s) => `/api/v1/access/revocations/${s}/lift`,
  ],
  [
    "accessReviews.decideItem",
    (n) => accessReviewsApi.decideItem(n, n, { decision: "keep", comment: "" }),
    (s) => `/api/v1/access-reviews/${s}/items/${s}/decide`,
  ],
];

describe("fetchers build their paths with every name escaped as one segment", () => {
  describe.each(FETCHERS)("%s", (_name, call, expected) => {
    it.each(HOSTILE)("sends %j as %s", async (name, segment) => {
      const path = await pathOf(() => call(name));
      // The search term is a query value, escaped by URLSearchParams.
      expect(path.startsWith(expected(segment))).toBe(true);
    });

    it.each(["..", ".", ""])("refuses %j before sending anything", async (name) => {
      onPage();
      await expect(call(name)).rejects.toMatchObject({ code: "bad_path_segment", status: 0 });
      expect(seen).toEqual([]);
    });
  });

  it("exec posts as the editor to the escaped connection, returning every status's response", async () => {
    onPage();
    reply = { status: 403, body: { status: "blocked", sessionId: "s1" } };
    const response = await execApi.run("a/b?c", { input: "select 1", runId: "r1" });
    expect(response.status).toBe(403);
    expect(seen).toEqual([{ method: "POST", url: "/api/v1/connections/a%2Fb%3Fc/exec" }]);
  });
});

describe("why a dot segment is refused rather than escaped", () => {
  it("is not changed by encodeURIComponent, and a URL parser climbs it to another route", () => {
    expect(encodeURIComponent("..")).toBe("..");
    const unescaped = `/api/v1/connections/${encodeURIComponent("..")}/users`;
    expect(new URL(unescaped, "http://console.example").pathname).toBe("/api/v1/users");
    expect(() => apiPath`/api/v1/connections/${".."}/masking`).toThrow(ApiError);
  });

  it("keeps every other value one segment", () => {
    for (const [name] of HOSTILE) {
      const path = apiPath`/api/v1/connections/${name}/masking`;
      expect(new URL(path, "http://console.example").pathname.split("/")).toHaveLength(6);
      expect(decodeURIComponent(pathSegment(name))).toBe(name);
    }
  });
});

describe("replies", () => {
  it("surfaces the server's code and message when refused", async () => {
    onPage();
    reply = {
      status: 403,
      body: { error: { code: "forbidden", message: "missing permission policies:manage" } },
    };
    await expect(connectionsApi.masking("shop")).rejects.toMatchObject({
      status: 403,
      code: "forbidden",
      message: "missing permission policies:manage",
    });
  });

  it("refuses a reply of the wrong shape without echoing its values", async () => {
    onPage();
    reply = { status: 200, body: { tables: [{ schema: "public", name: 7, columns: "s3cret-value" }] } };
    const error = await connectionsApi.catalog("shop").then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "bad_reply" });
    expect(String((error as Error).message)).not.toContain("s3cret");
  });

  it("returns the checked reply, without fields the schema does not know", async () => {
    onPage();
    reply = {
      status: 200,
      body: {
        items: [
          {
            at: "2026-01-01T00:00:00Z",
            statement: "select 1",
            decision: "allow",
            status: "done",
            rowCount: 1,
            durationMs: 2,
            extra: "x",
          },
        ],
      },
    };
    const { items } = await connectionsApi.history("shop");
    expect(items).toEqual([
      {
        at: "2026-01-01T00:00:00Z",
        statement: "select 1",
        decision: "allow",
        status: "done",
        rowCount: 1,
        durationMs: 2,
      },
    ]);
  });

  it("calls nothing off the console's own API, and nothing without a page", async () => {
    await expect(connectionsApi.catalog("shop")).rejects.toMatchObject({ code: "no_origin" });
    onPage();
    const { callApi } = await import("./client");
    await expect(callApi("//evil.example/api/v1/x")).rejects.toMatchObject({ code: "bad_path" });
    await expect(callApi("/healthz")).rejects.toMatchObject({ code: "bad_path" });
    expect(seen).toEqual([]);
  });
});
