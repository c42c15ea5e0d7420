// Just-in-time approvals end to end on real parts: the console's store on PostgreSQL, a PostgreSQL target, people
// in requester and approver groups. Covers who may decide, expiry, the two-approvals rule, that an approved
// request runs once and exactly as reviewed, the masked result for the requester, the cross-replica signal
// (a second Node process on the same store) and signed, retried webhooks.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let storeUrl: string;
let targetUrl: string;
let dataDir: string;
let requester: Principal;
let ada: Principal;
let bob: Principal;
let outsider: Principal;
let admin: Principal;
const actor = TEST_ACTOR;
const EMAIL = "grace.hopper@navy.example.com";
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "approvals",
    targetSql: `
    create table customers (id int primary key, name text, email text, notes text);
    insert into customers values (1, 'Grace', '${EMAIL}', '');
    create table items (id int primary key, n int not null);
    insert into items select g, 0 from generate_series(1, 20) g;`,
  });
  ({ storeUrl, targetUrl, dataDir } = gateway);
  const { createGroup, createUser, loadPrincipal } = await import("@/server/auth");
  await createGroup(actor, { name: "dba" });
  await setApprovals({ approverGroups: ["dba"], approvalsRequired: 1 });
  const person = async (email: string, groups: string[], role: "admin" | "member" = "member") =>
    (await loadPrincipal(await createUser(actor, { email, password: PASSWORD, groups, role }), "session"))!;
  requester = await person("requester@example.com", ["analysts"]);
  ada = await person("ada@example.com", ["dba"]);
  bob = await person("bob@example.com", ["dba"]);
  outsider = await person("outsider@example.com", ["analysts"]);
  admin = await person("admin@example.com", [], "admin");
});

afterAll(async () => {
  await gateway?.stop();
});

/** connection.options.approvals is not in the update schema, so tests write the row directly. */
async function setApprovals(approvals: { approverGroups: string[]; approvalsRequired: number }) {
  const raw = postgres(storeUrl, { max: 1 });
  await raw`update connections set options = options || ${raw.json({ approvals })} where name = 'shop'`;
  await raw.end();
}

async function onStore<T>(query: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const raw = postgres(storeUrl, { max: 1 });
  try {
    return await query(raw);
  } finally {
    await raw.end();
  }
}

async function itemCount(id: number): Promise<number> {
  const raw = postgres(targetUrl, { max: 1 });
  const [row] = await raw`select n from items where id = ${id}`;
  await raw.end();
  return Number(row?.n);
}

/** Submits a statement as the requester and expects it to be held; returns the review id. */
async function hold(input: string): Promise<string> {
  const { runSql } = await import("@/server/pipeline");
  const outcome = await runSql({ principal: requester, connectionName: "shop", input, channel: "api" });
  expect(outcome.status).toBe("pending_review");
  if (outcome.status !== "pending_review") throw new Error("not held");
  return outcome.reviewId;
}

async function decide(principal: Principal, id: string, decision: "approve" | "deny", comment = "") {
  const { decideReview } = await import("@/server/approvals");
  return decideReview(principal, id, decision, comment);
}

describe("approvals", () => {
  it("runs nothing when a review is denied, and a denied review cannot be approved", async () => {
    const id = await hold("update items set n = n + 1 where id = 1");
    const denied = await decide(ada, id, "deny", "not today");
    expect(denied.state).toBe("denied");
    expect(denied.decisions).toMatchObject([{ by: ada.id, decision: "deny", comment: "not today" }]);
    await expect(decide(bob, id, "approve")).rejects.toMatchObject({ status: 409 });
    expect(await itemCount(1)).toBe(0);
  });

  it("refuses to let the requester approve their own request (403)", async () => {
    const id = await hold("update items set n = n + 1 where id = 2");
    await expect(decide(requester, id, "approve")).rejects.toMatchObject({ status: 403 });
    const { getReview } = await import("@/server/approvals");
    const view = await getReview(requester, id);
    expect(view).toMatchObject({ state: "pending", isMine: true, canDecide: false });
    expect(await itemCount(2)).toBe(0);
  });

  it("lets a member of the approver group approve, and refuses a member outside it as if there were no review (404)", async () => {
    const id = await hold("update items set n = n + 1 where id = 3");
    await expect(decide(outsider, id, "approve")).rejects.toMatchObject({ status: 404 });
    const { getReview, listReviews } = await import("@/server/approvals");
    await expect(getReview(outsider, id)).rejects.toMatchObject({ status: 404 });
    expect((await listReviews(outsider, "inbox")).map((r) => r.id)).not.toContain(id);
    expect((await listReviews(ada, "inbox")).map((r) => r.id)).toContain(id);
    const approved = await decide(ada, id, "approve");
    expect(approved.state).toBe("executed");
    expect(await itemCount(3)).toBe(1);
  });

  it("lets an admin approve without being in an approver group", async () => {
    const id = await hold("update items set n = n + 1 where id = 4");
    expect((await decide(admin, id, "approve")).state).toBe("executed");
    expect(await itemCount(4)).toBe(1);
  });

  it("expires a pending review, which then cannot be approved (409)", async () => {
    const id = await hold("update items set n = n + 1 where id = 5");
    await onStore((sql) => sql`update reviews set expires_at = now() - interval '1 minute' where id = ${id}`);
    const { getReview } = await import("@/server/approvals");
    expect((await getReview(ada, id)).state).toBe("expired");
    await expect(decide(ada, id, "approve")).rejects.toMatchObject({ status: 409 });
    expect(await itemCount(5)).toBe(0);
  });

  it("needs two approvals from two people when the connection asks for two", async () => {
    await setApprovals({ approverGroups: ["dba"], approvalsRequired: 2 });
    try {
      const id = await hold("update items set n = n + 1 where id = 6");
      const first = await decide(ada, id, "approve");
      expect(first).toMatchObject({ state: "pending", approvalsRequired: 2 });
      expect(first.decisions).toHaveLength(1);
      expect(await itemCount(6)).toBe(0);
      await expect(decide(ada, id, "approve")).rejects.toMatchObject({ status: 409 });
      const { getReview } = await import("@/server/approvals");
      expect((await getReview(ada, id)).canDecide).toBe(false);
      expect((await getReview(bob, id)).canDecide).toBe(true);
      const second = await decide(bob, id, "approve");
      expect(second.state).toBe("executed");
      expect(second.decisions.map((d) => d.by)).toEqual([ada.id, bob.id]);
      expect(await itemCount(6)).toBe(1);
    } finally {
      await setApprovals({ approverGroups: ["dba"], approvalsRequired: 1 });
    }
  });

  it("treats an edited statement as a new review, and approving the first runs only the first", async () => {
    const first = await hold("update items set n = n + 10 where id = 7");
    const edited = await hold("update items set n = n + 100 where id = 7");
    expect(edited).not.toBe(first);
    const hashes = await onStore(
      (sql) => sql`select id, input_hash from reviews where id in (${first}, ${edited})`,
    );
    expect(new Set(hashes.map((r) => r.input_hash)).size).toBe(2);
    await decide(ada, first, "approve");
    expect(await itemCount(7)).toBe(10);
    const { getReview } = await import("@/server/approvals");
    expect((await getReview(ada, edited)).state).toBe("pending");
  });

  it("runs approved work once, even when two approvers race", async () => {
    const id = await hold("update items set n = n + 1 where id = 8");
    const outcomes = await Promise.allSettled([decide(ada, id, "approve"), decide(bob, id, "approve")]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === "rejected");
    expect(rejected?.status === "rejected" && rejected.reason).toMatchObject({ status: 409 });
    await expect(decide(bob, id, "approve")).rejects.toMatchObject({ status: 409 });
    await expect(decide(ada, id, "approve")).rejects.toMatchObject({ status: 409 });
    expect(await itemCount(8)).toBe(1);
    const [counted] = await onStore(
      (sql) => sql`select count(*)::int as results from session_events
                   where type = 'result' and data->>'reviewId' = ${id}`,
    );
    expect(counted?.results).toBe(1);
  });

  it("gives the requester the masked result of their approved request", async () => {
    const id = await hold("update customers set notes = 'checked' where id = 1 returning id, email");
    await decide(ada, id, "approve");
    const { getReview } = await import("@/server/approvals");
    const review = await getReview(requester, id);
    expect(review.state).toBe("executed");
    expect(review.result).toMatchObject({ status: "done", rowCount: 1 });
    const text = JSON.stringify(review.result);
    expect(text).not.toContain(EMAIL);
    expect(text).toContain('"maskedTypes":["email"]');
  });

  it("lets a review rule name its own approvers and count, instead of the connection's", async () => {
    const { createGroup, createUser, loadPrincipal } = await import("@/server/auth");
    const { createRule, deleteRule } = await import("@/server/policy");
    await createGroup(actor, { name: "finance-leads" });
    const lead = async (email: string) =>
      (await loadPrincipal(
        await createUser(actor, { email, password: PASSWORD, groups: ["finance-leads"] }),
        "session",
      ))!;
    const carol = await lead("carol@example.com");
    const dan = await lead("dan@example.com");
    await expect(
      createRule(actor, {
        name: "bad",
        tables: ["items"],
        action: "review",
        approverGroups: ["no-such-group"],
      }),
    ).rejects.toMatchObject({ status: 400, message: "unknown group: no-such-group" });
    const ruleId = await createRule(actor, {
      name: "items need finance",
      tables: ["items"],
      classes: ["write"],
      action: "review",
      approverGroups: ["finance-leads"],
      approvalsRequired: 2,
    });
    try {
      const id = await hold("update items set n = n + 1 where id = 13");
      const { getReview, listReviews } = await import("@/server/approvals");
      expect(await getReview(admin, id)).toMatchObject({
        approverGroups: ["finance-leads"],
        approvalsRequired: 2,
      });
      // the connection's approver group (dba) does not decide what this rule holds (nor see it: 404)
      await expect(decide(ada, id, "approve")).rejects.toMatchObject({ status: 404 });
      expect((await listReviews(ada, "inbox")).map((r) => r.id)).not.toContain(id);
      expect((await listReviews(carol, "inbox")).map((r) => r.id)).toContain(id);
      expect((await decide(carol, id, "approve")).state).toBe("pending");
      expect(await itemCount(13)).toBe(0);
      expect((await decide(dan, id, "approve")).state).toBe("executed");
      expect(await itemCount(13)).toBe(1);
      // a statement the rule does not match still goes to the connection's approvers
      const other = await hold("update customers set notes = 'x' where id = 1");
      expect(await getReview(admin, other)).toMatchObject({ approverGroups: ["dba"], approvalsRequired: 1 });
    } finally {
      await deleteRule(actor, ruleId);
    }
  });

  it("filters the history by state, connection, text, requester and who decided", async () => {
    const { listReviews, parseReviewFilters } = await import("@/server/approvals");
    const deniedId = await hold("update items set n = n + 1 where id = 14 -- history-filter-probe");
    await decide(bob, deniedId, "deny", "no");
    const approvedId = await hold("update items set n = n + 1 where id = 15 -- history-filter-probe");
    await decide(ada, approvedId, "approve");
    const ids = async (p: Principal, filters: Record<string, string>) => {
      const parsed = parseReviewFilters(filters);
      if (!parsed.success) throw parsed.error;
      return (await listReviews(p, "history", parsed.data)).map((r) => r.id);
    };
    expect(await ids(admin, { text: "history-filter-probe" })).toEqual([approvedId, deniedId]);
    expect(await ids(admin, { text: "history-filter-probe", state: "denied" })).toEqual([deniedId]);
    expect(await ids(admin, { text: "history-filter-probe", state: "executed" })).toEqual([approvedId]);
    expect(await ids(admin, { text: "history-filter-probe", connection: "elsewhere" })).toEqual([]);
    expect(await ids(admin, { text: "history-filter-probe", requester: "requester@" })).toHaveLength(2);
    expect(await ids(bob, { text: "history-filter-probe", decidedByMe: "1" })).toEqual([deniedId]);
    // "%" is a character, not a wildcard
    expect(await ids(admin, { text: "history%probe" })).toEqual([]);
    // without audit:read, a member sees what they asked for or decided, not everyone's history
    expect(await ids(outsider, { text: "history-filter-probe" })).toEqual([]);
    expect(await ids(ada, { text: "history-filter-probe" })).toEqual([approvedId]);
    expect(await ids(requester, { text: "history-filter-probe" })).toHaveLength(2);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await ids(admin, { text: "history-filter-probe", from: tomorrow })).toEqual([]);
    expect(parseReviewFilters({ state: "bogus" }).success).toBe(false);
    expect(parseReviewFilters({ from: "2026-13-45" }).success).toBe(false);
  });
});

describe("the reviews signal across replicas", () => {
  async function waitForChange(timeoutMs = 5000): Promise<void> {
    const { reviewSignals } = await import("@/server/approvals");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reviews signal")), timeoutMs);
      reviewSignals.addEventListener(
        "changed",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  it("sends NOTIFY portcullis_reviews, and relays notifications from elsewhere exactly once", async () => {
    const { reviewSignals, signalReviewsChanged, startReviewSignals } = await import("@/server/approvals");
    await startReviewSignals();
    const other = postgres(storeUrl, { max: 1, onnotice: () => {} });
    try {
      const heard: string[] = [];
      await other.listen("portcullis_reviews", (payload) => heard.push(payload));
      let local = 0;
      const count = () => local++;
      reviewSignals.addEventListener("changed", count);
      await signalReviewsChanged();
      await expect.poll(() => heard.length).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      // its own notification comes back to this process too, and is not dispatched a second time
      expect(local).toBe(1);
      const relayed = waitForChange();
      await other.notify("portcullis_reviews", "another-replica");
      await relayed;
      reviewSignals.removeEventListener("changed", count);
    } finally {
      await other.end();
    }
  });

  it("reaches a second Node process on the same store, and back", async () => {
    const { signalReviewsChanged, startReviewSignals } = await import("@/server/approvals");
    await startReviewSignals();
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        "./scripts/server-only-hook.mjs",
        "server/approvals/signal-probe.fixture.ts",
      ],
      {
        cwd: path.resolve(__dirname, "../.."),
        env: { ...process.env, DATABASE_URL: storeUrl, DATA_DIR: dataDir },
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await expect.poll(() => output, { timeout: 30_000, interval: 100 }).toContain("listening");
      const answered = waitForChange(10_000);
      await signalReviewsChanged();
      await expect.poll(() => output, { timeout: 10_000 }).toContain("changed");
      await answered;
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill();
    }
  });
});

interface Delivery {
  body: string;
  signature: string;
  timestamp: string;
  delivery: string;
  status: number;
}

/** A webhook receiver on 127.0.0.1 that checks signatures and fails each event's first attempt with 500. */
async function startReceiver(secret: string, port = 0) {
  const deliveries: Delivery[] = [];
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = String(req.headers["x-portcullis-signature"] ?? "");
      const timestamp = String(req.headers["x-portcullis-timestamp"] ?? "");
      const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
      const isValid =
        signature.length === expected.length &&
        timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      const status = !isValid ? 401 : seen.has(body) ? 200 : 500;
      seen.add(body);
      deliveries.push({
        body,
        signature,
        timestamp: String(req.headers["x-portcullis-timestamp"]),
        delivery: String(req.headers["x-portcullis-delivery"] ?? ""),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/hooks/portcullis`,
    port: address.port,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status === 200).map((d) => JSON.parse(d.body)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("webhooks", () => {
  const secret = "whsec-test-0123456789abcdef";

  /** An endpoint for review.created whose receiver is down (its port free again, for a receiver started later). */
  async function endpointDown() {
    const webhooks = await import("@/server/webhooks");
    const down = await startReceiver(secret);
    await down.close();
    const { webhook } = await webhooks.createWebhook(actor, {
      url: down.url,
      secret,
      events: ["review.created"],
    });
    return { down, webhook };
  }

  it("signs each event, retries after a 500 without holding up the request, and leaks no credentials", async () => {
    const webhooks = await import("@/server/webhooks");
    webhooks.configureWebhookDelivery({ baseDelayMs: 300 });
    const receiver = await startReceiver(secret);
    const { webhook } = await webhooks.createWebhook(actor, {
      url: receiver.url,
      secret,
      events: ["review.created", "review.executed"],
    });
    try {
      const id = await hold("update items set n = n + 1 where id = 9");
      // the request came back before the endpoint accepted anything: delivery runs in the background
      expect(receiver.accepted()).toHaveLength(0);
      await decide(ada, id, "approve", "ok");
      await webhooks.settleWebhookDeliveries();

      const accepted = receiver.accepted();
      expect(accepted.map((p) => p.event).sort()).toEqual(["review.created", "review.executed"]);
      const created = accepted.find((p) => p.event === "review.created");
      expect(created.review).toMatchObject({
        id,
        state: "pending",
        requester: "requester@example.com",
        connection: "shop",
        class: "write",
        input: "update items set n = n + [redacted] where id = [redacted]",
        decisions: [],
      });
      expect(Object.keys(created.review).sort()).toEqual(
        ["class", "connection", "createdAt", "decisions", "id", "input", "requester", "state"].sort(),
      );
      const executed = accepted.find((p) => p.event === "review.executed");
      expect(executed.review).toMatchObject({ state: "executed", decisions: [{ decision: "approve" }] });

      // every event: one refused attempt, then the same signed body again
      const attempts = new Map<string, number[]>();
      for (const d of receiver.deliveries) attempts.set(d.body, [...(attempts.get(d.body) ?? []), d.status]);
      expect([...attempts.values()]).toEqual([
        [500, 200],
        [500, 200],
      ]);
      // Each event is one delivery, named the same at each attempt (a receiver can drop a repeat).
      const ids = new Map<string, Set<string>>();
      for (const d of receiver.deliveries) ids.set(d.body, (ids.get(d.body) ?? new Set()).add(d.delivery));
      expect([...ids.values()].map((set) => set.size)).toEqual([1, 1]);
      expect(new Set(receiver.deliveries.map((d) => d.delivery)).size).toBe(2);
      const listed = await webhooks.listWebhookDeliveries(webhook.id);
      expect(listed.map((d) => [d.event, d.state, d.attempts]).sort()).toEqual([
        ["review.created", "delivered", 2],
        ["review.executed", "delivered", 2],
      ]);
      expect(listed.every((d) => d.lastError === null && d.deliveredAt !== null)).toBe(true);
      for (const d of receiver.deliveries) {
        expect(d.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(Math.abs(Number(d.timestamp) - Date.now() / 1000)).toBeLessThan(60);
      }
      const everything = receiver.deliveries.map((d) => d.body).join("\n");
      expect(everything).not.toContain(gateway.pg.password);
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(requester.id);
    } finally {
      await webhooks.deleteWebhook(actor, webhook.id);
      await receiver.close();
    }
  });

  it("keeps what an endpoint has not accepted in the store, and sends it when a console starts again", async () => {
    const webhooks = await import("@/server/webhooks");
    // The endpoint is down: the first attempt fails and the retry is far off (a console that stops now loses
    // nothing: the delivery is a row in the store, not a timer in memory).
    webhooks.configureWebhookDelivery({ baseDelayMs: 3_600_000 });
    const { down, webhook } = await endpointDown();
    try {
      const id = await hold("update items set n = n + 1 where id = 13");
      let [pending] = await webhooks.listWebhookDeliveries(webhook.id);
      for (let i = 0; i < 400 && !pending?.lastError; i++) {
        await new Promise((r) => setTimeout(r, 25));
        [pending] = await webhooks.listWebhookDeliveries(webhook.id);
      }
      expect(pending).toMatchObject({ event: "review.created", state: "pending", attempts: 1 });
      expect(pending?.lastError).toMatch(/ECONNREFUSED|fetch failed/);
      expect(pending?.lastError).not.toContain(down.url);
      // ...a console starting later (or another replica) finds it due and sends it, once.
      await onStore(
        (sql) => sql`update webhook_deliveries set next_attempt_at = now() where id = ${pending!.id}`,
      );
      const up = await startReceiver(secret, down.port); // it refuses each event once with a 500
      webhooks.configureWebhookDelivery({ baseDelayMs: 10 });
      const stop = webhooks.startWebhookDelivery();
      try {
        for (let i = 0; i < 200 && up.accepted().length === 0; i++)
          await new Promise((r) => setTimeout(r, 25));
        expect(up.accepted().map((p) => [p.event, p.review.id])).toEqual([["review.created", id]]);
        expect(up.deliveries.map((d) => [d.delivery, d.status])).toEqual([
          [pending!.id, 500],
          [pending!.id, 200],
        ]);
        await webhooks.settleWebhookDeliveries();
        expect(await webhooks.listWebhookDeliveries(webhook.id)).toMatchObject([
          { id: pending!.id, state: "delivered", attempts: 3 },
        ]);
      } finally {
        await stop();
        await up.close();
      }
    } finally {
      webhooks.configureWebhookDelivery({ baseDelayMs: 10 });
      await webhooks.deleteWebhook(actor, webhook.id);
    }
    // Removing an endpoint removes what was owed to it.
    await expect(webhooks.listWebhookDeliveries(webhook.id)).rejects.toThrow(/no such webhook/);
    expect(
      await onStore(
        (sql) => sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${webhook.id}`,
      ),
    ).toEqual([{ n: 0 }]);
  });

  it("sends a delivery that gave up again when an admin asks, and only a failed one", async () => {
    const webhooks = await import("@/server/webhooks");
    webhooks.configureWebhookDelivery({ attempts: 1, baseDelayMs: 10 });
    const { down, webhook } = await endpointDown();
    try {
      await hold("update items set n = n + 1 where id = 14");
      await webhooks.settleWebhookDeliveries();
      const [failed] = await webhooks.listWebhookDeliveries(webhook.id);
      expect(failed).toMatchObject({ state: "failed", attempts: 1 });
      const up = await startReceiver(secret, down.port); // refuses each event once with a 500
      try {
        webhooks.configureWebhookDelivery({ attempts: 5 });
        await webhooks.retryDelivery(actor, webhook.id, failed!.id);
        await webhooks.settleWebhookDeliveries();
        expect(await webhooks.listWebhookDeliveries(webhook.id)).toMatchObject([
          { id: failed!.id, state: "delivered", attempts: 2 },
        ]);
        expect(up.accepted().map((p) => p.event)).toEqual(["review.created"]);
        // Delivered now: nothing to send again, here or on another endpoint.
        await expect(webhooks.retryDelivery(actor, webhook.id, failed!.id)).rejects.toMatchObject({
          status: 404,
        });
        await expect(webhooks.retryDelivery(actor, "other", failed!.id)).rejects.toMatchObject({
          status: 404,
        });
        const audit = await onStore(
          (sql) =>
            sql`select details from audit_events where action = 'webhook.retry' order by id desc limit 1`,
        );
        expect(audit[0]?.details).toMatchObject({ deliveryId: failed!.id, event: "review.created" });
      } finally {
        await up.close();
      }
    } finally {
      webhooks.configureWebhookDelivery({ attempts: 5, baseDelayMs: 10 });
      await webhooks.deleteWebhook(actor, webhook.id);
    }
  });

  it("sends a Slack-compatible message for the events an endpoint subscribed to", async () => {
    const webhooks = await import("@/server/webhooks");
    webhooks.configureWebhookDelivery({ baseDelayMs: 10 });
    const receiver = await startReceiver(secret);
    const { webhook } = await webhooks.createWebhook(actor, {
      url: receiver.url,
      secret,
      events: ["review.denied"],
      format: "slack",
    });
    try {
      const id = await hold("update items set n = n + 1 where id = 10 and 1 < 2");
      await decide(bob, id, "deny", "use the <staging> copy");
      await webhooks.settleWebhookDeliveries();
      const [message] = receiver.accepted();
      expect(receiver.accepted()).toHaveLength(1);
      expect(message.text).toBe("requester@example.com's write request on shop was denied");
      expect(JSON.stringify(message.blocks)).toContain("[redacted] &lt; [redacted]");
      expect(JSON.stringify(message.blocks)).toContain(
        "denied by bob@example.com: “use the &lt;staging&gt; copy”",
      );
      expect(message.blocks[0]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    } finally {
      await webhooks.deleteWebhook(actor, webhook.id);
      await receiver.close();
    }
  });

  it("tells endpoints when a review expires and when approved work fails on the target", async () => {
    const approvals = await import("@/server/approvals");
    const webhooks = await import("@/server/webhooks");
    webhooks.configureWebhookDelivery({ baseDelayMs: 10 });
    const receiver = await startReceiver(secret);
    const { webhook } = await webhooks.createWebhook(actor, {
      url: receiver.url,
      secret,
      events: ["review.expired", "review.failed"],
    });
    try {
      const stale = await hold("update items set n = n + 1 where id = 11");
      await onStore(
        (sql) => sql`update reviews set expires_at = now() - interval '1 minute' where id = ${stale}`,
      );
      await approvals.listReviews(ada, "inbox");
      const broken = await hold("update items set n = 1 / 0 where id = 12");
      expect((await decide(ada, broken, "approve")).state).toBe("failed");
      await webhooks.settleWebhookDeliveries();
      const accepted = receiver.accepted();
      expect(accepted.map((p) => [p.event, p.review.id]).sort()).toEqual(
        [
          ["review.expired", stale],
          ["review.failed", broken],
        ].sort(),
      );
      expect(await itemCount(12)).toBe(0);
    } finally {
      await webhooks.deleteWebhook(actor, webhook.id);
      await receiver.close();
    }
  });

  it("keeps signing secrets write-only and sealed, and lets an admin change or remove an endpoint", async () => {
    const webhooks = await import("@/server/webhooks");
    const created = await webhooks.createWebhook(actor, { url: "https://hooks.example.com/T0/B0/xyz" });
    expect(created.secret.length).toBeGreaterThanOrEqual(32);
    const listed = await webhooks.listWebhooks();
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(listed.find((w) => w.id === created.webhook.id)).toMatchObject({
      format: "json",
      enabled: true,
      hasSecret: true,
      events: webhooks.REVIEW_EVENTS,
    });
    const updated = await webhooks.updateWebhook(actor, created.webhook.id, {
      enabled: false,
      format: "slack",
    });
    expect(updated).toMatchObject({ enabled: false, format: "slack" });
    await expect(webhooks.updateWebhook(actor, created.webhook.id, { url: "ftp://x" })).rejects.toThrow();
    const audit = await onStore((sql) => sql`select row_to_json(a)::text as row from audit_events a`);
    const auditText = audit.map((r) => r.row).join("\n");
    expect(auditText).toContain("webhook.create");
    expect(auditText).not.toContain("/T0/B0/xyz");
    await webhooks.deleteWebhook(actor, created.webhook.id);
    expect((await webhooks.listWebhooks()).map((w) => w.id)).not.toContain(created.webhook.id);
    await expect(webhooks.deleteWebhook(actor, created.webhook.id)).rejects.toMatchObject({ status: 404 });
  });
});
