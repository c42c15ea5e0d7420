import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let analyst: Principal;
let idle: Principal;
let lead: Principal;
let reviewer: Principal;
let admin: Principal;
const PASSWORD = "correct horse battery staple";
const future = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "access-review",
    targetSql: `
    create table customers (id int primary key, name text, email text, card_number text);
    insert into customers values (1, 'Grace', 'grace.hopper@navy.example.com', '4111 1111 1111 1111');`,
  });
  const { createGroup, createUser, loadPrincipal } = await import("@/server/auth");
  await createGroup(TEST_ACTOR, { name: "reviewers" });
  const person = async (email: string, groups: string[], role: "admin" | "member" = "member") =>
    (await loadPrincipal(
      await createUser(TEST_ACTOR, { email, password: PASSWORD, groups, role }),
      "session",
    ))!;
  analyst = await person("analyst@example.com", ["analysts"]);
  idle = await person("idle@example.com", ["analysts"]);
  lead = await person("lead@example.com", ["analysts", "reviewers"]);
  reviewer = await person("reviewer@example.com", ["reviewers"]);
  admin = await person("admin@example.com", [], "admin");
  const { runSql } = await import("@/server/pipeline");
  for (const input of ["select email, card_number from customers", "select id from customers"]) {
    const outcome = await runSql({ principal: analyst, connectionName: "shop", input, channel: "api" });
    expect(outcome.status).toBe("done");
  }
  // The idle analyst joined long ago and never used the connection.
  const raw = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  await raw`update group_members set created_at = now() - interval '40 days' where user_id = ${idle.id}`;
  await raw.end();
});

afterAll(async () => {
  await gateway?.stop();
});

async function matrix(filters: Record<string, unknown>) {
  const { getAccessMatrix } = await import("@/server/access-review");
  return getAccessMatrix(admin, filters);
}

describe("access matrix", () => {
  it("shows last use, counts and touched types from recorded sessions", async () => {
    const { rows } = await matrix({ connection: "shop" });
    const used = rows.find((r) => r.principal === analyst.email);
    expect(used).toMatchObject({
      connection: "shop",
      sessions30: 2,
      sessions90: 2,
      statements30: 2,
      statements90: 2,
      isUnused: false,
      paths: [{ via: "group", group: "analysts" }],
    });
    expect(Date.now() - new Date(used?.lastUsedAt ?? 0).getTime()).toBeLessThan(10 * 60_000);
    expect(used?.touchedTypes).toEqual(expect.arrayContaining(["credit_card", "email"]));
    expect(used?.touchedColumns).toEqual(expect.arrayContaining(["card_number", "email"]));
    expect(used?.touchedColumns).not.toContain("id");
    const never = rows.find((r) => r.principal === idle.email);
    expect(never).toMatchObject({ lastUsedAt: null, sessions90: 0, touchedTypes: [], isUnused: true });
    expect(rows.find((r) => r.principal === admin.email)?.paths).toMatchObject([{ via: "admin" }]);
  });

  it("filters by touched type and by unused standing access, and exports CSV", async () => {
    const byType = await matrix({ type: "credit_card" });
    expect(byType.rows.map((r) => r.principal)).toEqual([analyst.email]);
    const unused = await matrix({ unused: "1" });
    expect(unused.rows.map((r) => r.principal)).toEqual([idle.email]);
    const { exportAccessMatrixCsv } = await import("@/server/access-review");
    const csv = await exportAccessMatrixCsv(admin, { connection: "shop", principal: "analyst@" });
    const lines = csv.trim().split("\r\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^analyst@example\.com,person,shop,group analysts,/);
  });

  it("is for auditors only", async () => {
    const { getAccessMatrix } = await import("@/server/access-review");
    await expect(getAccessMatrix(reviewer, {})).rejects.toMatchObject({ status: 403 });
  });

  it("answers who read a card number on a connection since a date", async () => {
    const { askQuestion } = await import("@/server/access-review");
    const answer = await askQuestion(admin, {
      question: "touched",
      field: "card_number",
      connection: "shop",
      since: "2020-01-01",
    });
    expect(answer.rows.map((r) => r.cells[1])).toEqual([analyst.email]);
    const later = await askQuestion(admin, {
      question: "touched",
      field: "credit_card",
      connection: "shop",
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(later.rows).toEqual([]);
  });
});

describe("access review campaigns", () => {
  it("revokes at once with a 403 naming why, keeps others' access, refuses self-review, and reports", async () => {
    const { campaignReport, closeCampaign, createCampaign, decideItem, getCampaign } = await import(
      "@/server/access-review"
    );
    const input = {
      name: "Q4 shop review",
      connections: ["shop"],
      reviewers: "group" as const,
      reviewerGroup: "reviewers",
      dueAt: future(),
    };
    await expect(createCampaign(reviewer, input)).rejects.toMatchObject({ status: 403 });
    const campaign = await createCampaign(admin, input);
    expect(campaign.items.map((i) => i.principal).sort()).toEqual([analyst.email, idle.email, lead.email]);

    const asReviewer = await getCampaign(reviewer, campaign.id);
    const item = asReviewer.items.find((i) => i.principal === analyst.email);
    expect(item?.canDecide).toBe(true);
    expect(item?.consequence).toContain("through group analysts");
    expect(item?.evidence.touchedTypes).toEqual(expect.arrayContaining(["credit_card"]));

    const own = (await getCampaign(lead, campaign.id)).items.find((i) => i.principal === lead.email);
    expect(own?.canDecide).toBe(false);
    await expect(
      decideItem(lead, campaign.id, own?.id ?? "", { decision: "keep", comment: "" }),
    ).rejects.toMatchObject({ status: 403, message: expect.stringContaining("own access") });

    const decided = await decideItem(reviewer, campaign.id, item?.id ?? "", {
      decision: "revoke",
      comment: "moved to another team",
    });
    expect(decided).toMatchObject({ decision: "revoke", decidedBy: reviewer.email });
    await expect(
      decideItem(reviewer, campaign.id, item?.id ?? "", { decision: "keep", comment: "" }),
    ).rejects.toMatchObject({ status: 409 });

    const { runSql } = await import("@/server/pipeline");
    const refused = runSql({ principal: analyst, connectionName: "shop", input: "select 1", channel: "api" });
    await expect(refused).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(
        /^access to shop was revoked in access review 'Q4 shop review' on \d{4}-\d{2}-\d{2} by reviewer@example\.com: moved to another team$/,
      ),
    });
    const { listConnections } = await import("@/server/connections");
    expect((await listConnections(analyst)).map((c) => c.name)).toEqual([]);
    expect((await listConnections(idle)).map((c) => c.name)).toEqual(["shop"]);

    const raw = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
    const audited =
      await raw`select actor_label, target, details from audit_events where action = 'access_review.revoke'`;
    await raw.end();
    expect(audited).toMatchObject([
      {
        actor_label: reviewer.email,
        target: "shop",
        details: { principal: analyst.email, comment: "moved to another team" },
      },
    ]);

    await expect(campaignReport(admin, campaign.id)).rejects.toMatchObject({ status: 409 });
    await closeCampaign(admin, campaign.id);
    const report = await campaignReport(admin, campaign.id);
    expect(report.summary).toEqual({ items: 3, kept: 0, revoked: 1, undecided: 2 });
    expect(report.items.find((i) => i.principal === analyst.email)).toMatchObject({
      decision: "revoke",
      decidedBy: reviewer.email,
      comment: "moved to another team",
      evidence: { sessions30: 2 },
    });
  });

  it("bulk-keeps unused access for the reviewer's items only, and lifting a revocation restores access", async () => {
    const { bulkDecide, createCampaign, liftRevocation, listRevocations } = await import(
      "@/server/access-review"
    );
    const campaign = await createCampaign(admin, {
      name: "unused sweep",
      reviewers: "group",
      reviewerGroup: "reviewers",
      dueAt: future(),
    });
    const result = await bulkDecide(reviewer, campaign.id, { decision: "keep", comment: "still needed" });
    expect(result).toEqual({ decided: 1, skipped: 0 });
    const [revocation] = await listRevocations(admin);
    expect(revocation).toMatchObject({
      principal: "analyst@example.com",
      connection: "shop",
      campaign: "Q4 shop review",
    });
    await liftRevocation(admin, revocation?.id ?? "");
    const { listConnections } = await import("@/server/connections");
    expect((await listConnections(analyst)).map((c) => c.name)).toEqual(["shop"]);
  });

  it("announces started and closed campaigns to subscribed webhooks, signed", async () => {
    const received: {
      event: string;
      signature: string;
      timestamp: string;
      text: string;
      body: { campaign: { name: string; items: number } };
    }[] = [];
    const server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk) => {
        text += chunk;
      });
      req.on("end", () => {
        const body = JSON.parse(text);
        received.push({
          event: body.event,
          signature: String(req.headers["x-portcullis-signature"]),
          timestamp: String(req.headers["x-portcullis-timestamp"]),
          text,
          body,
        });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const webhooks = await import("@/server/webhooks");
      const { port } = server.address() as AddressInfo;
      const hook = await webhooks.createWebhook(TEST_ACTOR, {
        url: `http://127.0.0.1:${port}/hook`,
        events: ["campaign.started", "campaign.closed"],
      });
      const { closeCampaign, createCampaign } = await import("@/server/access-review");
      const campaign = await createCampaign(admin, {
        name: "announced",
        reviewers: "owners",
        dueAt: future(),
      });
      await closeCampaign(admin, campaign.id);
      await webhooks.settleWebhookDeliveries();
      expect(received.map((r) => r.event)).toEqual(["campaign.started", "campaign.closed"]);
      expect(received[0]?.body.campaign).toMatchObject({ name: "announced", items: campaign.total });
      expect(received[0]?.signature).toBe(
        webhooks.signBody(hook.secret, received[0]?.timestamp ?? "", received[0]?.text ?? ""),
      );
      await webhooks.deleteWebhook(TEST_ACTOR, hook.webhook.id);
    } finally {
      server.close();
    }
  });
});

describe("auditor questions", () => {
  it("lists writes that ran without an approval, and the approvals a user gave", async () => {
    const { createRule } = await import("@/server/policy");
    const { runSql } = await import("@/server/pipeline");
    const { decideReview } = await import("@/server/approvals");
    const { askQuestion } = await import("@/server/access-review");
    const held = await runSql({
      principal: lead,
      connectionName: "shop",
      input: "insert into customers values (2, 'Ada', 'ada@example.com', '')",
      channel: "api",
    });
    if (held.status !== "pending_review") throw new Error(`expected a held insert, got ${held.status}`);
    await decideReview(admin, held.reviewId, "approve", "ticket OPS-7");
    await createRule(TEST_ACTOR, {
      name: "analysts update names",
      connection: "shop",
      classes: ["write"],
      action: "allow",
    });
    const direct = await runSql({
      principal: lead,
      connectionName: "shop",
      input: "update customers set name = 'Grace H' where id = 1",
      channel: "api",
    });
    expect(direct.status).toBe("done");

    const writes = await askQuestion(admin, { question: "unapproved-writes", connection: "shop" });
    expect(writes.rows.map((r) => r.cells.slice(1, 5))).toEqual([
      [lead.email, "shop", "write", "analysts update names"],
    ]);
    const approvals = await askQuestion(admin, { question: "approvals-by", user: admin.email });
    expect(approvals.rows.map((r) => [r.cells[1], r.cells[2], r.cells[3], r.cells[6]])).toEqual([
      ["review", "approve", lead.email, "ticket OPS-7"],
    ]);
    await expect(
      askQuestion(admin, { question: "approvals-by", user: "x", since: "soon" }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });
});
