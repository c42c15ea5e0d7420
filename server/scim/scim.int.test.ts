// SCIM 2.0 on real parts (PostgreSQL store, the /scim/v2 route module, the API's route handlers over HTTP with a
// real next-auth session cookie): the request sequences Okta and Azure AD send (look up, create, group member
// add and remove, deactivate, delete), each change felt by the person's open console session on its next
// request; and the attacks a SCIM token or a confused caller could try.
import { encode } from "next-auth/jwt";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type RouteServer, startRouteServer } from "../http/route-server.fixture";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";

let gateway: GatewayFixture;
let server: RouteServer;
let store: postgres.Sql;
let scimToken: string;
let adminToken: string;
let analystsId: string;
type Json = Record<string, unknown> & { Resources?: Json[] };

async function scim(method: string, path: string, body?: unknown, token = scimToken) {
  const route = (await import("@/app/scim/v2/[[...path]]/route")) as Record<
    string,
    (r: Request, c: { params: Promise<{ path?: string[] }> }) => Promise<Response>
  >;
  const url = new URL(`http://console.test/scim/v2/${path}`);
  const request = new Request(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { "content-type": "application/scim+json" }),
    },
    ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const segments = url.pathname.split("/").slice(3).filter(Boolean).map(decodeURIComponent);
  const handler = route[method];
  if (!handler) throw new Error(`no ${method}`);
  const response = await handler(request, { params: Promise.resolve({ path: segments }) });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    json: (text ? JSON.parse(text) : {}) as Json,
  };
}

const filter = (f: string) => `?filter=${encodeURIComponent(f)}`;

async function cookieFor(userId: string): Promise<string> {
  const { getConfig } = await import("@/server/config");
  const { currentSessionEpoch } = await import("@/server/auth/sessions");
  const token = await encode({
    token: { uid: userId, epoch: await currentSessionEpoch(userId) },
    secret: getConfig().authSecret,
  });
  return `next-auth.session-token=${token}`;
}

/** What the person's open console tab gets on its next request. */
async function console(cookie: string, path = "/api/v1/me") {
  const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
  return { status: response.status, json: (await response.json()) as Json };
}

const connectionsOf = async (cookie: string) =>
  ((await console(cookie, "/api/v1/connections")).json.connections as { name: string }[] | undefined)?.map(
    (c) => c.name,
  );

beforeAll(async () => {
  process.env.PUBLIC_URL = "http://console.test";
  gateway = await startGatewayFixture({ name: "scim" });
  server = await startRouteServer();
  store = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  const { createServiceAccount, createUser } = await import("@/server/auth");
  await createUser(TEST_ACTOR, { email: "root@example.com", password: "root-password-1", role: "admin" });
  adminToken = (await createServiceAccount(TEST_ACTOR, { name: "ops", role: "admin", expiresInDays: 7 }))
    .token;
  const minted = await fetch(`${server.url}/api/v1/scim/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "okta" }),
  });
  expect(minted.status).toBe(201);
  scimToken = ((await minted.json()) as { token: string }).token;
  const [row] = await store`select id from groups where name = 'analysts'`;
  analystsId = String(row?.id);
});

afterAll(async () => {
  await store?.end();
  await server?.close();
  await gateway?.stop();
});

describe("minting a SCIM token", () => {
  it("shows it once, stores only its hash, lists its prefix and audits it without the token", async () => {
    const rows = await store`select * from scim_tokens`;
    expect(JSON.stringify(rows)).not.toContain(scimToken);
    const list = await fetch(`${server.url}/api/v1/scim/tokens`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const text = await list.text();
    expect(text).toContain(scimToken.slice(0, 10));
    expect(text).not.toContain(scimToken);
    const audit = await store`select * from audit_events where action = 'scim_token.create'`;
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(scimToken);
  });
});

describe("Okta's sequence", () => {
  it("creates, adds to a group, removes, deactivates and deletes; the open console tab feels each at once", async () => {
    const email = "ada@okta.example";
    expect(
      (await scim("GET", `Users${filter(`userName eq "${email}"`)}&startIndex=1&count=100`)).json,
    ).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim("POST", "Users", {
      schemas: [USER],
      userName: email,
      name: { givenName: "Ada", familyName: "Lovelace" },
      emails: [{ primary: true, value: email, type: "work" }],
      displayName: "Ada Lovelace",
      locale: "en-US",
      externalId: "00u1okta",
      groups: [],
      active: true,
    });
    expect(created.status).toBe(201);
    expect(created.type).toMatch(/application\/scim\+json/);
    expect(created.json).toMatchObject({ userName: email, active: true, externalId: "00u1okta" });
    const id = String(created.json.id);
    const cookie = await cookieFor(id);
    expect((await console(cookie)).status).toBe(200);
    expect(await connectionsOf(cookie)).toEqual([]);

    // Okta links its group push to the console's group by name, then adds the member.
    const found = await scim("GET", `Groups${filter('displayName eq "analysts"')}`);
    expect(found.json.Resources?.[0]?.id).toBe(analystsId);
    const added = await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: "members", value: [{ value: id, display: email }] }],
    });
    expect(added.status).toBe(200);
    expect(await connectionsOf(cookie)).toEqual(["shop"]);

    const removed = await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "remove", path: `members[value eq "${id}"]` }],
    });
    expect(removed.status).toBe(200);
    expect(await connectionsOf(cookie)).toEqual([]);

    const deactivated = await scim("PATCH", `Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    expect(deactivated.json).toMatchObject({ active: false });
    expect((await console(cookie)).status).toBe(401);

    expect((await scim("DELETE", `Users/${id}`)).status).toBe(204);
    expect((await scim("GET", `Users/${id}`)).status).toBe(404);
    const events = await store`select action from audit_events where actor_label = 'scim:okta' order by id`;
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        "user.create",
        "group.member_add",
        "group.member_remove",
        "user.update",
        "user.delete",
      ]),
    );
  });
});

describe("Azure AD's sequence", () => {
  it("creates with the enterprise extension, patches with capitalised ops and string booleans, and deletes", async () => {
    const email = "bob@azure.example";
    expect((await scim("GET", `Users${filter(`userName eq "${email}"`)}`)).json.totalResults).toBe(0);
    const created = await scim("POST", "Users", {
      schemas: [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
      externalId: "bob-object-id",
      userName: email,
      active: true,
      displayName: "Bob",
      emails: [{ primary: true, type: "work", value: email }],
      name: { formatted: "Bob Builder", familyName: "Builder", givenName: "Bob" },
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { department: "Ops" },
      roles: [{ value: "admin", primary: true }],
    });
    expect(created.status).toBe(201);
    const id = String(created.json.id);
    const [row] = await store`select role, auth_source, password_hash from users where id = ${id}`;
    expect(row).toMatchObject({ role: "member", password_hash: null });
    const cookie = await cookieFor(id);

    const renamed = await scim("PATCH", `Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: "Replace", path: "displayName", value: "Bob B." },
        { op: "Add", path: "title", value: "Builder" },
      ],
    });
    expect(renamed.json).toMatchObject({ displayName: "Bob B.", active: true });

    const listed = await scim(
      "GET",
      `Groups?excludedAttributes=members&${filter('displayName eq "analysts"').slice(1)}`,
    );
    expect(listed.json.Resources?.[0]).not.toHaveProperty("members.0");
    await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "Add", path: "members", value: [{ value: id }] }],
    });
    expect(await connectionsOf(cookie)).toEqual(["shop"]);
    await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "Remove", path: "members", value: [{ value: id }] }],
    });
    expect(await connectionsOf(cookie)).toEqual([]);

    const off = await scim("PATCH", `Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "Replace", path: "active", value: "False" }],
    });
    expect(off.json).toMatchObject({ active: false });
    expect((await console(cookie)).status).toBe(401);
    expect((await scim("DELETE", `Users/${id}`)).status).toBe(204);
  });
});

describe("replacing a user", () => {
  it("PUT replaces: a new userName ends the old sessions, an omitted active means active, externalId is cleared", async () => {
    const created = await scim("POST", "Users", {
      schemas: [USER],
      userName: "carol@idp.example",
      externalId: "carol-1",
      active: false,
    });
    const id = String(created.json.id);
    expect(created.json.active).toBe(false);
    const cookie = await cookieFor(id);
    expect((await console(cookie)).status).toBe(401);
    const replaced = await scim("PUT", `Users/${id}`, {
      schemas: [USER],
      userName: "carol.new@idp.example",
      displayName: "Carol New",
    });
    expect(replaced.json).toMatchObject({
      userName: "carol.new@idp.example",
      displayName: "Carol New",
      active: true,
    });
    expect(replaced.json).not.toHaveProperty("externalId");
    const fresh = await cookieFor(id);
    expect((await console(fresh)).json).toMatchObject({ user: { email: "carol.new@idp.example" } });
    const taken = await scim("PUT", `Users/${id}`, { schemas: [USER], userName: "root@example.com" });
    expect(taken.status).toBe(409);
  });
});

describe("groups the provider makes", () => {
  it("creates one with members, renames it, replaces members with PUT, and deletes it", async () => {
    const a = await scim("POST", "Users", { schemas: [USER], userName: "g1@idp.example" });
    const b = await scim("POST", "Users", { schemas: [USER], userName: "g2@idp.example" });
    const group = await scim("POST", "Groups", {
      schemas: [GROUP],
      displayName: "db-readers",
      externalId: "grp-1",
      members: [{ value: a.json.id }],
    });
    expect(group.status).toBe(201);
    const gid = String(group.json.id);
    expect((group.json.members as Json[]).map((m) => m.value)).toEqual([a.json.id]);
    const renamed = await scim("PATCH", `Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "replace", value: { id: gid, displayName: "db-readers-eu" } }],
    });
    expect(renamed.json.displayName).toBe("db-readers-eu");
    const put = await scim("PUT", `Groups/${gid}`, {
      schemas: [GROUP],
      displayName: "db-readers-eu",
      members: [{ value: b.json.id }],
    });
    expect((put.json.members as Json[]).map((m) => m.value)).toEqual([b.json.id]);
    expect((await scim("DELETE", `Groups/${gid}`)).status).toBe(204);
    expect((await scim("GET", `Groups/${gid}`)).status).toBe(404);
  });

  it("pages with startIndex and count", async () => {
    for (const n of [1, 2, 3])
      await scim("POST", "Users", { schemas: [USER], userName: `page${n}@idp.example` });
    const page = await scim("GET", `Users${filter('userName sw "page"')}&startIndex=2&count=1`);
    expect(page.json).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(page.json.Resources?.[0]?.userName).toBe("page2@idp.example");
  });

  it("answers the discovery documents", async () => {
    expect((await scim("GET", "ServiceProviderConfig")).json).toMatchObject({ patch: { supported: true } });
    expect((await scim("GET", "Schemas")).json.totalResults).toBe(2);
    expect((await scim("GET", `Schemas/${USER}`)).json.name).toBe("User");
    expect((await scim("GET", "ResourceTypes/Group")).json.endpoint).toBe("/Groups");
  });
});

describe("attacks on and through SCIM", () => {
  it("cannot see, disable or delete a local account or a service account", async () => {
    const local = await store`select id from users where email = 'root@example.com'`;
    const service = await store`select id from users where kind = 'service' limit 1`;
    const listed = await scim("GET", "Users?count=200");
    const ids = (listed.json.Resources ?? []).map((r) => r.id);
    for (const [row] of [local, service]) {
      const id = String(row?.id);
      expect(ids).not.toContain(id);
      const off = await scim("PATCH", `Users/${id}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: "replace", path: "active", value: false }],
      });
      expect(off.status).toBe(404);
      expect((await scim("DELETE", `Users/${id}`)).status).toBe(404);
    }
    const [root] = await store`select disabled from users where email = 'root@example.com'`;
    expect(root?.disabled).toBe(false);
    const taken = await scim("POST", "Users", { schemas: [USER], userName: "root@example.com" });
    expect(taken.status).toBe(409);
    expect(taken.json.scimType).toBe("uniqueness");
  });

  it("cannot add a service account to a group", async () => {
    const [service] = await store`select id from users where kind = 'service' limit 1`;
    const reply = await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "add", path: "members", value: [{ value: service?.id }] }],
    });
    expect(reply.status).toBe(400);
    const rows = await store`select * from group_members where user_id = ${String(service?.id)}`;
    expect(rows).toHaveLength(0);
  });

  it("removes only its own membership: one an admin gave in the console stays", async () => {
    const { addGroupMember } = await import("@/server/auth");
    const p = await scim("POST", "Users", { schemas: [USER], userName: "both@idp.example" });
    const id = String(p.json.id);
    await addGroupMember(TEST_ACTOR, analystsId, id);
    await scim("PATCH", `Groups/${analystsId}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: "remove", path: "members", value: [{ value: id }] }],
    });
    const rows = await store`select source from group_members where user_id = ${id}`;
    expect(rows.map((r) => r.source)).toEqual(["local"]);
  });

  it("refuses an API token at /scim/v2, a SCIM token at /api/v1, and a revoked SCIM token", async () => {
    expect((await scim("GET", "Users", undefined, adminToken)).status).toBe(401);
    const api = await fetch(`${server.url}/api/v1/users`, {
      headers: { authorization: `Bearer ${scimToken}` },
    });
    expect(api.status).toBe(401);
    const { createScimToken, revokeScimToken } = await import("@/server/scim");
    const spare = await createScimToken(TEST_ACTOR, { name: "spare" });
    expect((await scim("GET", "Users", undefined, spare.token)).status).toBe(200);
    await revokeScimToken(TEST_ACTOR, spare.id);
    expect((await scim("GET", "Users", undefined, spare.token)).status).toBe(401);
  });

  it.each([
    ["GET", `Users${filter('userName eq "unclosed')}`, undefined, 400, "invalidFilter"],
    ["GET", `Users${filter('emails[type eq "work"].value pr')}`, undefined, 400, "invalidFilter"],
    ["POST", "Users", "{not json", 400, "invalidSyntax"],
    ["POST", "Users", { schemas: [USER], userName: "not-an-email" }, 400, "invalidValue"],
    ["PATCH", "Users/00000000-0000-0000-0000-000000000000", { Operations: [] }, 400, "invalidSyntax"],
    ["PATCH", "Groups/ANALYSTS", { schemas: [PATCH_OP], Operations: [{ op: "move" }] }, 400, "invalidSyntax"],
    [
      "PATCH",
      "Groups/ANALYSTS",
      { schemas: [PATCH_OP], Operations: [{ op: "add", path: "members" }] },
      404,
      "noTarget",
    ],
    ["GET", "Users/00000000-0000-0000-0000-000000000000", undefined, 404, "noTarget"],
    ["GET", "Nothing", undefined, 404, undefined],
  ])("%s %s answers a SCIM error", async (method, path, body, status, scimType) => {
    const reply = await scim(method, path, body);
    expect(reply.status).toBe(status);
    expect(reply.json).toMatchObject({
      schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
      status: String(status),
      ...(scimType && { scimType }),
    });
    expect(String(reply.json.detail)).not.toMatch(/at .*\.ts/);
  });
});
