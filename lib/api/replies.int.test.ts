// The console's fetchers against the real routes (app/api/**/route.ts through the route-server fixture, a real
// PostgreSQL store and target): each fetcher's path reaches its route, and each reply it reads parses with its
// schema, so a schema cannot drift from what the server sends without this failing. Only the caller's
// credentials are added on the way (a service token, where the browser sends its cookie).
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import {
  ApiError,
  accessReviewsApi,
  campaignItemSchema,
  classificationApi,
  connectionsApi,
  execApi,
  execDoneSchema,
  execHeldSchema,
  reviewsApi,
  runsApi,
  serviceAccountsApi,
  webhooksApi,
} from "./index";

let gateway: GatewayFixture;
let server: RouteServer;
let adminToken: string;
/** What the caller sends to be who it is: a service token, or a person's session cookie as the browser does. */
let credentials: Record<string, string> = {};

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "replies",
    targetSql: `
    create table customers (id int primary key, name text, email text);
    insert into customers values (1, 'Grace', 'grace@example.com'), (2, 'Alan', 'alan@example.org');`,
  });
  const { createServiceAccount, updateUser } = await import("@/server/auth");
  const ops = await createServiceAccount(TEST_ACTOR, { name: "ops", groups: ["analysts"] });
  await updateUser(TEST_ACTOR, ops.id, { role: "admin" });
  adminToken = ops.token;
  credentials = { authorization: `Bearer ${adminToken}` };
  await createServiceAccount(TEST_ACTOR, { name: "reporter", groups: ["analysts"] });
  server = await startRouteServer();
  // As on a console page: relative paths resolve against its origin; the caller's credentials ride along.
  const realFetch = globalThis.fetch;
  vi.stubGlobal("location", { origin: server.url });
  vi.stubGlobal("fetch", (input: URL, init: RequestInit = {}) =>
    realFetch(input, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...credentials },
    }),
  );
});

// A test that signs in as a person leaves the next one the service token again.
afterEach(() => {
  credentials = { authorization: `Bearer ${adminToken}` };
});

afterAll(async () => {
  vi.unstubAllGlobals();
  await server?.close();
  await gateway?.stop();
});

describe("connections", () => {
  it("creates, edits, tests and deletes a connection with checked replies", async () => {
    const { pg } = gateway;
    const created = await connectionsApi.create({
      kind: "postgres",
      name: "second",
      host: pg.host,
      port: pg.port,
      database: "shop",
      username: pg.user,
      password: pg.password,
      groups: ["analysts"],
    });
    expect(created.connection).toMatchObject({ name: "second", credentials: { password: true } });
    expect(JSON.stringify(created)).not.toContain(pg.password);
    const edited = await connectionsApi.update("second", { description: "the second one" });
    expect(edited.connection.description).toBe("the second one");
    const tested = await connectionsApi.test("second");
    expect(tested.result.ok).toBe(true);
    await connectionsApi.remove("second");
    await expect(connectionsApi.masking("second")).rejects.toMatchObject({ status: 404 });
  });

  it("reads, saves and resets the masking settings", async () => {
    expect((await connectionsApi.masking("shop")).masking.isDefault).toBe(true);
    const saved = await connectionsApi.setMasking("shop", { defaultStyle: "partial" });
    expect(saved.masking).toMatchObject({ defaultStyle: "partial", isDefault: false });
    expect((await connectionsApi.resetMasking("shop")).masking.isDefault).toBe(true);
  });

  it("checks a statement against the rules", async () => {
    const checked = await connectionsApi.check("shop", "delete from customers");
    expect(checked.statements[0]?.tables).toEqual(["customers"]);
  });

  it("runs SQL as the editor, then reads the catalog and the history", async () => {
    const response = await execApi.run("shop", { input: "select name from customers", runId: randomUUID() });
    expect(response.status).toBe(200);
    execDoneSchema.parse(await response.json());
    const { tables } = await connectionsApi.catalog("shop");
    expect(tables.find((t) => t.name === "customers")?.columns.map((c) => c.name)).toEqual([
      "id",
      "name",
      "email",
    ]);
    const { items } = await connectionsApi.history("shop");
    expect(items[0]).toMatchObject({ statement: "select name from customers", status: "done" });
    expect(await runsApi.cancel(randomUUID())).toBe(false);
  });

  it("reads the classification overview and switches applying proposals", async () => {
    const overview = await classificationApi.overview("shop");
    expect(overview.scan.state).toBe("idle");
    expect((await classificationApi.setApplyProposed("shop", true)).applyProposed).toBe(true);
    expect((await classificationApi.setApplyProposed("shop", false)).applyProposed).toBe(false);
  });

  it("answers an escaped hostile name with the route's own 404, not another route", async () => {
    for (const name of ["a/b", "?x", "%2F", "shop/../../users"]) {
      const refused = await connectionsApi.masking(name).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ status: 404, code: "not_found" });
    }
  });
});

describe("reviews", () => {
  it("reads a held statement's review and my inbox", async () => {
    const response = await execApi.run("shop", {
      input: "update customers set name = 'Alan T' where id = 2",
      runId: randomUUID(),
    });
    expect(response.status).toBe(202);
    const held = execHeldSchema.parse(await response.json());
    const { review } = await reviewsApi.get(held.reviewId);
    expect(review).toMatchObject({ state: "pending", isMine: true });
    expect(Array.isArray((await reviewsApi.inbox()).reviews)).toBe(true);
    await reviewsApi.cancel(held.reviewId);
    expect((await reviewsApi.get(held.reviewId)).review.state).toBe("cancelled");
  });
});

describe("service accounts", () => {
  it("creates an account and issues, rotates and revokes its credentials with checked replies", async () => {
    const created = await serviceAccountsApi.create({ name: "etl", groups: ["analysts"] });
    expect(created).toMatchObject({ name: "etl" });
    expect(created.token).toMatch(/^ptc_/);
    const issued = await serviceAccountsApi.issueToken(created.id, { name: "second token" });
    const rotated = await serviceAccountsApi.rotateToken(created.id, issued.tokenId, 60);
    expect(rotated.previous.tokenId).toBe(issued.tokenId);
    await serviceAccountsApi.revokeToken(rotated.tokenId);
    const secret = await serviceAccountsApi.createClientSecret(created.id, { name: "client secret" });
    expect(secret.clientId).toBe(created.id);
    await serviceAccountsApi.revokeClientSecret(created.id, secret.secretId);
  });
});

describe("webhooks and access reviews", () => {
  it("creates a webhook and reads its signing secret once", async () => {
    const created = await webhooksApi.create({ url: "https://hooks.example.com/portcullis", format: "json" });
    expect(created.secret.length).toBeGreaterThan(16);
  });

  it("starts a campaign whose items parse as the viewer's items (with effect and consequence)", async () => {
    // Campaigns are started by people who are admins, signed in to the console.
    const { createUser } = await import("@/server/auth");
    const { getConfig } = await import("@/server/config");
    const { currentSessionEpoch } = await import("@/server/auth/sessions");
    const { encode } = await import("next-auth/jwt");
    const adaId = await createUser(TEST_ACTOR, {
      email: "ada@example.com",
      password: "ada-password-1",
      role: "admin",
      groups: ["analysts"],
    });
    const token = await encode({
      token: { uid: adaId, epoch: await currentSessionEpoch(adaId) },
      secret: getConfig().authSecret,
    });
    credentials = { cookie: `next-auth.session-token=${token}` };
    const dueAt = new Date(Date.now() + 14 * 86_400_000).toISOString();
    const { campaign } = await accessReviewsApi.create({
      name: "Quarterly",
      connections: ["shop"],
      groups: [],
      reviewers: "group",
      reviewerGroup: "analysts",
      dueAt,
      unusedDays: 30,
    });
    const response = await fetch(new URL(`/api/v1/access-reviews/${campaign.id}`, server.url), {});
    const { campaign: view } = (await response.json()) as { campaign: { items: unknown[] } };
    expect(view.items.length).toBeGreaterThan(0);
    for (const item of view.items) {
      const parsed = campaignItemSchema.parse(item);
      expect(parsed.effect).toBeNull();
      expect(parsed.consequence.length).toBeGreaterThan(0);
    }
  });
});
