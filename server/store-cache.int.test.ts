// The request caches (server/store-cache.ts) never outlive a change: a revoked token, a disabled user, a removed
// membership, a deleted connection, an edited rule or masking setting is seen by the very next request, in this
// process and (through NOTIFY on the PostgreSQL store) in another one.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "store-cache",
    targetSql: "create table items (id int, email text); insert into items values (1, 'ada@example.com');",
  });
  const { startStoreCacheSignals } = await import("@/server/store-cache");
  await startStoreCacheSignals();
});

afterAll(async () => {
  const { stopStoreCacheSignals } = await import("@/server/store-cache");
  await stopStoreCacheSignals();
  await gateway?.stop();
});

async function serviceAccount(name: string) {
  const { createServiceAccount, principalFromToken } = await import("@/server/auth");
  const created = await createServiceAccount(TEST_ACTOR, { name, groups: ["analysts"] });
  const principal = await principalFromToken(created.token);
  if (!principal) throw new Error("the new token did not resolve");
  // Twice: the second read is served from the cache.
  expect(await principalFromToken(created.token)).toEqual(principal);
  return { ...created, principal };
}

describe("request caches", () => {
  it("refuse a revoked token on the next request", async () => {
    const { principalFromToken, revokeToken } = await import("@/server/auth");
    const bot = await serviceAccount("revoked-bot");
    await revokeToken(TEST_ACTOR, bot.tokenId);
    expect(await principalFromToken(bot.token)).toBeNull();
  });

  it("refuse a disabled or deleted account's token on the next request", async () => {
    const { deleteUser, principalFromToken, updateUser } = await import("@/server/auth");
    const bot = await serviceAccount("disabled-bot");
    await updateUser(TEST_ACTOR, bot.id, { disabled: true });
    expect(await principalFromToken(bot.token)).toBeNull();
    await updateUser(TEST_ACTOR, bot.id, { disabled: false });
    expect(await principalFromToken(bot.token)).not.toBeNull();
    await deleteUser(TEST_ACTOR, bot.id);
    expect(await principalFromToken(bot.token)).toBeNull();
  });

  it("drop a connection from a caller whose membership was removed", async () => {
    const { principalFromToken, removeGroupMember } = await import("@/server/auth");
    const { getConnectionForUse } = await import("@/server/connections");
    const bot = await serviceAccount("member-bot");
    expect((await getConnectionForUse(bot.principal, "shop")).name).toBe("shop");
    const group = bot.principal.groups.find((g) => g.name === "analysts");
    await removeGroupMember(TEST_ACTOR, group?.id ?? "", bot.id);
    const now = await principalFromToken(bot.token);
    expect(now?.groups).toEqual([]);
    if (!now) throw new Error("the token should still resolve");
    await expect(getConnectionForUse(now, "shop")).rejects.toMatchObject({ status: 404 });
  });

  it("apply a connection's new groups, a new rule and new masking settings to the next statement", async () => {
    const { createGroup } = await import("@/server/auth");
    const { getConnectionForUse, updateConnection } = await import("@/server/connections");
    const { createRule, deleteRule } = await import("@/server/policy");
    const { saveMaskingSettings } = await import("@/server/masking-config");
    const { checkSql, runSql } = await import("@/server/pipeline");
    const bot = await serviceAccount("rules-bot");
    const shop = await getConnectionForUse(bot.principal, "shop");

    expect((await checkSql(bot.principal, "shop", "select * from items")).decision).toBe("allow");
    const ruleId = await createRule(TEST_ACTOR, {
      name: "no items",
      connection: "shop",
      groups: [],
      classes: [],
      tables: ["items"],
      functions: [],
      action: "deny",
      message: "items are off limits",
    });
    expect((await checkSql(bot.principal, "shop", "select * from items")).decision).toBe("deny");
    await deleteRule(TEST_ACTOR, ruleId);
    expect((await checkSql(bot.principal, "shop", "select * from items")).decision).toBe("allow");

    const run = async () => {
      const outcome = await runSql({
        principal: bot.principal,
        connectionName: "shop",
        input: "select email from items",
        channel: "api",
      });
      if (outcome.status !== "done") throw new Error(`unexpected ${outcome.status}`);
      return outcome.results[0]?.rows[0]?.[0];
    };
    expect(await run()).not.toBe("ada@example.com");
    await saveMaskingSettings(TEST_ACTOR, shop, { enabledTypes: [], columnRules: [] });
    expect(await run()).toBe("ada@example.com");
    await saveMaskingSettings(TEST_ACTOR, shop, {});
    expect(await run()).not.toBe("ada@example.com");

    await createGroup(TEST_ACTOR, { name: "others" });
    await updateConnection(TEST_ACTOR, shop.id, { groups: ["others"] });
    await expect(getConnectionForUse(bot.principal, "shop")).rejects.toMatchObject({ status: 404 });
    await updateConnection(TEST_ACTOR, shop.id, { groups: ["analysts"] });
    expect((await getConnectionForUse(bot.principal, "shop")).groups).toEqual(["analysts"]);
  });

  it("apply a new, edited or deleted command rule to the next command line, apart from the SQL rules", async () => {
    const {
      createCommandRule,
      deleteCommandRule,
      evaluateCommandLine,
      loadCommandRules,
      loadRules,
      updateCommandRule,
    } = await import("@/server/policy");
    const scope = { connectionId: gateway.connectionId, groups: [] };
    const decide = async (line: string) =>
      (await evaluateCommandLine(line, await loadCommandRules(), scope)).decision;
    const sqlRulesBefore = await loadRules();
    expect(await decide("deploy --prod")).toBe("allow");
    const rule = {
      name: "no deploys",
      connection: null,
      groups: [],
      matchKind: "command" as const,
      pattern: "deploy",
      action: "deny" as const,
    };
    const id = await createCommandRule(TEST_ACTOR, rule);
    expect(await decide("deploy --prod")).toBe("deny");
    // Both kinds share one cache: each kind reads back only its own rules.
    expect(await loadRules()).toEqual(sqlRulesBefore);
    expect((await loadCommandRules()).map((r) => r.id)).toContain(id);
    await updateCommandRule(TEST_ACTOR, id, { ...rule, action: "review" });
    expect(await decide("deploy --prod")).toBe("review");
    // What a caller changes in the rules it was handed is not what the next line reads.
    const [handed] = await loadCommandRules();
    if (handed) handed.action = "allow";
    expect(await decide("deploy --prod")).toBe("review");
    await deleteCommandRule(TEST_ACTOR, id);
    expect(await decide("deploy --prod")).toBe("allow");
  });

  it("hear a token revoked by another process (the admin command line) through NOTIFY", async () => {
    const { principalFromToken } = await import("@/server/auth");
    const bot = await serviceAccount("other-process-bot");
    execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        "./scripts/server-only-hook.mjs",
        "scripts/admin.ts",
        "token",
        "revoke",
        bot.tokenId,
      ],
      { env: { ...process.env, DATABASE_URL: gateway.storeUrl, DATA_DIR: gateway.dataDir }, stdio: "ignore" },
    );
    // The notification arrives asynchronously; well within the cache's 10 s lifetime, so only NOTIFY explains it.
    await vi.waitFor(async () => expect(await principalFromToken(bot.token)).toBeNull(), { timeout: 5000 });
  });
});
