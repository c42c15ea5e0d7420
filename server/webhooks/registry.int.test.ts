import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
const actor = TEST_ACTOR;

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "webhooks" });
});

afterAll(async () => {
  await gateway?.stop();
});

async function onStore<T>(query: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const raw = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  try {
    return await query(raw);
  } finally {
    await raw.end();
  }
}

describe("webhooks in the store", () => {
  it("keeps endpoints in the webhooks table with the secret sealed to its id", async () => {
    const { createWebhook, listWebhooks, updateWebhook, deleteWebhook } = await import("@/server/webhooks");
    const { webhookTarget, webhooksFor } = await import("./registry");
    const secret = "a-signing-secret-of-some-length";
    const { webhook } = await createWebhook(actor, {
      url: "https://hooks.example.com/portcullis?token=abc",
      secret,
      events: ["review.created"],
    });
    const [row] = await onStore((sql) => sql`select secret, events from webhooks where id = ${webhook.id}`);
    expect(String(row?.secret)).not.toContain(secret);
    expect(row?.events).toEqual(["review.created"]);
    expect(await webhooksFor("review.created")).toEqual([{ id: webhook.id, format: "json" }]);
    expect(await webhookTarget(webhook.id)).toEqual({
      id: webhook.id,
      url: webhook.url,
      format: "json",
      enabled: true,
      secret,
    });
    expect(await webhooksFor("review.denied")).toEqual([]);
    // A sealed secret copied to another row does not open: the id is bound as associated data.
    await onStore(
      (sql) =>
        sql`insert into webhooks (id, url, secret, events) values ('copy', 'https://x.example.com', ${String(row?.secret)}, '["review.created"]')`,
    );
    await expect(webhookTarget("copy")).rejects.toThrow();
    await onStore((sql) => sql`delete from webhooks where id = 'copy'`);
    expect((await updateWebhook(actor, webhook.id, { enabled: false })).enabled).toBe(false);
    expect(await webhooksFor("review.created")).toEqual([]);
    expect((await listWebhooks()).map((w) => w.id)).toEqual([webhook.id]);
    await deleteWebhook(actor, webhook.id);
    expect(await listWebhooks()).toEqual([]);
    const audit = await onStore(
      (sql) =>
        sql`select target, details from audit_events where action = 'webhook.create' order by id desc limit 1`,
    );
    expect(JSON.stringify(audit)).not.toContain("token=abc");
  });
});
