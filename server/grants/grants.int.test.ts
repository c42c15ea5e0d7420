import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let storeUrl: string;
let member: Principal;
let other: Principal;
let admin: Principal;
let secondAdmin: Principal;
const actor = TEST_ACTOR;
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "grants" });
  storeUrl = gateway.storeUrl;
  const { createUser, loadPrincipal } = await import("@/server/auth");
  const person = async (email: string, groups: string[], role: "admin" | "member" = "member") =>
    (await loadPrincipal(await createUser(actor, { email, password: PASSWORD, groups, role }), "session"))!;
  member = await person("member@example.com", []);
  other = await person("other@example.com", []);
  admin = await person("admin@example.com", [], "admin");
  secondAdmin = await person("admin2@example.com", [], "admin");
});

afterAll(async () => {
  await gateway?.stop();
});

async function onStore<T>(query: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const raw = postgres(storeUrl, { max: 1, onnotice: () => {} });
  try {
    return await query(raw);
  } finally {
    await raw.end();
  }
}

async function usable(principal: Principal): Promise<string[]> {
  const { listConnections } = await import("@/server/connections");
  return (await listConnections(principal)).map((c) => c.name);
}

async function canOpen(principal: Principal): Promise<boolean> {
  const { getConnectionForUse } = await import("@/server/connections");
  return getConnectionForUse(principal, "shop").then(
    () => true,
    (err: { status?: number }) => {
      if (err.status !== 404) throw err;
      return false;
    },
  );
}

describe("access grants", () => {
  it("makes a connection usable once approved, and not after expires_at passes", async () => {
    const { requestGrant, decideGrant, listGrants } = await import("@/server/grants");
    expect(await usable(member)).toEqual([]);
    expect(await canOpen(member)).toBe(false);
    const requested = await requestGrant(member, {
      connection: "shop",
      durationMinutes: 30,
      reason: "INC-1",
    });
    expect(requested).toMatchObject({ state: "pending", isMine: true, canDecide: false, connection: "shop" });
    expect(await canOpen(member)).toBe(false);

    const approved = await decideGrant(admin, requested.id, "approve");
    expect(approved.state).toBe("active");
    const left = new Date(approved.expiresAt ?? 0).getTime() - Date.now();
    expect(left).toBeGreaterThan(29 * 60_000);
    expect(left).toBeLessThanOrEqual(30 * 60_000);
    expect(await usable(member)).toEqual(["shop"]);
    expect(await canOpen(member)).toBe(true);
    expect(await canOpen(other)).toBe(false);

    // Time passes: the grant lapses by itself, before anything marks it expired.
    await onStore(
      (sql) =>
        sql`update access_grants set expires_at = now() - interval '1 second' where id = ${requested.id}`,
    );
    expect(await canOpen(member)).toBe(false);
    expect(await usable(member)).toEqual([]);
    const [mine] = await listGrants(member, "mine");
    expect(mine).toMatchObject({ id: requested.id, state: "expired", canRevoke: false });

    const audit = await onStore(
      (sql) => sql`select action from audit_events where action like 'grant.%' order by at`,
    );
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(["grant.request", "grant.approve"]));
  });

  it("leaves a denied request unusable, and a denied request cannot be approved (409)", async () => {
    const { requestGrant, decideGrant } = await import("@/server/grants");
    const requested = await requestGrant(other, { connection: "shop", durationMinutes: 15, reason: "" });
    const denied = await decideGrant(admin, requested.id, "deny", "use the replica");
    expect(denied).toMatchObject({ state: "denied", comment: "use the replica" });
    await expect(decideGrant(secondAdmin, requested.id, "approve")).rejects.toMatchObject({ status: 409 });
    expect(await canOpen(other)).toBe(false);
  });

  it("refuses self-approval, even by an admin (403), and approval by another member, to whom it does not exist (404)", async () => {
    const { requestGrant, decideGrant } = await import("@/server/grants");
    const mine = await requestGrant(admin, { connection: "shop", durationMinutes: 15, reason: "" });
    await expect(decideGrant(admin, mine.id, "approve")).rejects.toMatchObject({ status: 403 });
    const theirs = await requestGrant(member, { connection: "shop", durationMinutes: 15, reason: "" });
    await expect(decideGrant(member, theirs.id, "approve")).rejects.toMatchObject({ status: 403 });
    await expect(decideGrant(other, theirs.id, "approve")).rejects.toMatchObject({ status: 404 });
    expect(await canOpen(member)).toBe(false);
    await decideGrant(secondAdmin, mine.id, "deny");
    await decideGrant(admin, theirs.id, "deny");
  });

  it("refuses durations outside 15..1440 minutes and unknown connections", async () => {
    const { requestGrant } = await import("@/server/grants");
    await expect(
      requestGrant(member, { connection: "shop", durationMinutes: 5, reason: "" }),
    ).rejects.toThrow();
    await expect(
      requestGrant(member, { connection: "shop", durationMinutes: 1441, reason: "" }),
    ).rejects.toThrow();
    await expect(
      requestGrant(member, { connection: "nope", durationMinutes: 30, reason: "" }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("ends access at once when revoked by an admin or the holder; someone else is told there is no such grant (404)", async () => {
    const { requestGrant, decideGrant, revokeGrant, listGrants } = await import("@/server/grants");
    const first = await requestGrant(member, { connection: "shop", durationMinutes: 60, reason: "" });
    await decideGrant(admin, first.id, "approve");
    expect(await canOpen(member)).toBe(true);
    await expect(revokeGrant(other, first.id)).rejects.toMatchObject({ status: 404 });
    expect((await revokeGrant(admin, first.id)).state).toBe("revoked");
    expect(await canOpen(member)).toBe(false);
    await expect(revokeGrant(admin, first.id)).rejects.toMatchObject({ status: 409 });

    const second = await requestGrant(member, { connection: "shop", durationMinutes: 60, reason: "" });
    await decideGrant(admin, second.id, "approve");
    expect(await canOpen(member)).toBe(true);
    await revokeGrant(member, second.id);
    expect(await canOpen(member)).toBe(false);

    await expect(listGrants(member, "all")).rejects.toMatchObject({ status: 403 });
    const all = await listGrants(admin, "all");
    expect(all.filter((g) => g.state === "revoked").map((g) => g.id)).toEqual(
      expect.arrayContaining([first.id, second.id]),
    );
    const audit = await onStore(
      (sql) => sql`select count(*)::int as n from audit_events where action = 'grant.revoke'`,
    );
    expect(audit[0]?.n).toBe(2);
  });

  it("lists every connection with whether the principal already has it", async () => {
    const { listGrantableConnections } = await import("@/server/grants");
    expect(await listGrantableConnections(member)).toEqual([
      { name: "shop", kind: "postgres", hasAccess: false },
    ]);
    expect(await listGrantableConnections(admin)).toEqual([
      { name: "shop", kind: "postgres", hasAccess: true },
    ]);
  });
});
