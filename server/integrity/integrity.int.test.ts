// Hash chains on a real PostgreSQL store: statements run through the pipeline leave a chain that verifies;
// altering or deleting a stored row (session event or audit event) makes verification fail at exactly that
// event; concurrent appends do not fork a chain; retention deletes old ended sessions only, and says so.
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let analyst: Principal;
let auditor: Principal;
let outsider: Principal;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "integrity",
    targetSql:
      "create table items (id int primary key, n int not null); insert into items values (1, 0), (2, 0);",
  });
  const { createUser, loadPrincipal } = await import("@/server/auth");
  const person = async (email: string, groups: string[], role: "admin" | "member" = "member") =>
    (await loadPrincipal(
      await createUser(TEST_ACTOR, { email, password: "correct horse battery staple", groups, role }),
      "session",
    ))!;
  analyst = await person("analyst@example.com", ["analysts"]);
  auditor = await person("auditor@example.com", [], "admin");
  outsider = await person("outsider@example.com", ["analysts"]);
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

/** A session with three statements run through the pipeline (one of them held for review). */
async function sqlSession(): Promise<string> {
  const { runSql } = await import("@/server/pipeline");
  const first = await runSql({
    principal: analyst,
    connectionName: "shop",
    input: "select * from items",
    channel: "api",
  });
  const { sessionId } = first;
  await runSql({
    principal: analyst,
    connectionName: "shop",
    input: "select count(*) from items",
    channel: "api",
    sessionId,
  });
  const held = await runSql({
    principal: analyst,
    connectionName: "shop",
    input: "update items set n = 1 where id = 1",
    channel: "api",
    sessionId,
  });
  expect(held.status).toBe("pending_review");
  return sessionId;
}

async function verify(sessionId: string) {
  const { verifySession } = await import("./index");
  return verifySession(sessionId);
}

async function verifyAudit() {
  const { verifyAuditLog } = await import("./index");
  return verifyAuditLog();
}

function runAdmin(args: string[], env: Record<string, string | undefined> = process.env) {
  return promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs", "scripts/admin.ts", ...args],
    { cwd: path.resolve(import.meta.dirname, "../.."), env: { ...env } as NodeJS.ProcessEnv },
  ).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe("session event chains", () => {
  it("records SQL statements as a chain that verifies, numbered 1..n", async () => {
    const sessionId = await sqlSession();
    const rows = await onStore(
      (sql) => sql`select seq, hash from session_events where session_id = ${sessionId} order by id`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const result = await verify(sessionId);
    expect(result).toMatchObject({ ok: true, events: rows.length, unchained: 0 });
    expect(result?.head.hash).toBe(rows.at(-1)?.hash);
  });

  it("fails at exactly the event whose data was altered in the store, and passes again once restored", async () => {
    const sessionId = await sqlSession();
    const [target] = await onStore(
      (sql) => sql`select id, seq, data from session_events where session_id = ${sessionId} and seq = 2`,
    );
    await onStore(
      (sql) =>
        sql`update session_events set data = jsonb_set(data, '{input}', '"select * from secrets"') where id = ${target?.id}`,
    );
    expect(await verify(sessionId)).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      firstBadId: Number(target?.id),
    });
    await onStore(
      (sql) => sql`update session_events set data = ${sql.json(target?.data)} where id = ${target?.id}`,
    );
    expect(await verify(sessionId)).toMatchObject({ ok: true });
  });

  it("fails when an event's time or type was altered", async () => {
    const sessionId = await sqlSession();
    await onStore(
      (sql) =>
        sql`update session_events set at = at + interval '1 second' where session_id = ${sessionId} and seq = 1`,
    );
    expect(await verify(sessionId)).toMatchObject({ ok: false, firstBadSeq: 1 });
  });

  it("fails at a deleted event, and at a deleted last event", async () => {
    const sessionId = await sqlSession();
    await onStore((sql) => sql`delete from session_events where session_id = ${sessionId} and seq = 3`);
    expect(await verify(sessionId)).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      reason: "event 3 is missing",
    });

    const other = await sqlSession();
    const [{ n }] = (await onStore(
      (sql) => sql`select max(seq)::int as n from session_events where session_id = ${other}`,
    )) as unknown as [{ n: number }];
    await onStore((sql) => sql`delete from session_events where session_id = ${other} and seq = ${n}`);
    expect(await verify(other)).toMatchObject({ ok: false, firstBadSeq: n });
  });

  it("keeps one chain when many appends to one session race, and verifies consistently meanwhile", async () => {
    const { appendSessionEvent, startSession } = await import("@/server/recording");
    const sessionId = await startSession(analyst, { id: "c-race", name: "race" }, "terminal", "terminal");
    // Checks of the live session while it is written to see a consistent chain too.
    const [, checks] = await Promise.all([
      Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          appendSessionEvent(sessionId, "output", { t: i / 10, data: `line ${i}\r\n` }),
        ),
      ),
      Promise.all(Array.from({ length: 8 }, () => verify(sessionId))),
    ]);
    expect(checks.map((c) => c?.ok)).toEqual(checks.map(() => true));
    const seqs = await onStore(
      (sql) => sql`select seq from session_events where session_id = ${sessionId} order by seq`,
    );
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(await verify(sessionId)).toMatchObject({ ok: true, events: 60 });
  });

  it("chains the failure of an approved request that could not run", async () => {
    const { createUser, loadPrincipal, updateUser } = await import("@/server/auth");
    const { runSql } = await import("@/server/pipeline");
    const { decideReview } = await import("@/server/approvals");
    const userId = await createUser(TEST_ACTOR, {
      email: "leaving@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const leaving = (await loadPrincipal(userId, "session"))!;
    const held = await runSql({
      principal: leaving,
      connectionName: "shop",
      input: "update items set n = 2 where id = 2",
      channel: "api",
    });
    if (held.status !== "pending_review") throw new Error("not held");
    await updateUser(TEST_ACTOR, userId, { disabled: true });
    expect((await decideReview(auditor, held.reviewId, "approve", "")).state).toBe("failed");
    const last = await onStore(
      (sql) =>
        sql`select type, data from session_events where session_id = ${held.sessionId} order by seq desc limit 1`,
    );
    expect(last[0]).toMatchObject({ type: "result", data: { status: "failed" } });
    expect(await verify(held.sessionId)).toMatchObject({ ok: true });
  });

  it("exits non-zero from the admin command line when a session fails verification", async () => {
    const sessionId = await sqlSession();
    const good = await runAdmin(["verify", "session", sessionId]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/verified \(\d+ events?, head [0-9a-f]{64}\)/);
    await onStore(
      (sql) => sql`update session_events set type = 'notice' where session_id = ${sessionId} and seq = 1`,
    );
    const bad = await runAdmin(["verify", "session", sessionId]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAILED at event 1/);
  });
});

describe("audit checkpoints", () => {
  it("sends the audit log's head to subscribed endpoints when it moved, and verify checks the log against it", async () => {
    const received: { body: string; signature: string; timestamp: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        received.push({
          body,
          signature: String(req.headers["x-portcullis-signature"]),
          timestamp: String(req.headers["x-portcullis-timestamp"]),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const secret = "checkpoint-secret-0123456789";
    const webhooks = await import("@/server/webhooks");
    const { sendAuditCheckpoint } = await import("@/server/audit");
    const { auditChainHead } = await import("@/server/integrity");
    const { recordAuditEvent } = await import("@/server/audit");
    const { webhook } = await webhooks.createWebhook(TEST_ACTOR, {
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pin`,
      secret,
      events: ["audit.checkpoint"],
    });
    try {
      const first = await sendAuditCheckpoint(webhooks.notifyWebhookEvent);
      const head = await auditChainHead();
      expect(first).toMatchObject({ seq: head.seq, hash: head.hash });
      await webhooks.settleWebhookDeliveries();
      expect(received).toHaveLength(1);
      const sent = JSON.parse(received[0]!.body);
      expect(sent).toMatchObject({
        event: "audit.checkpoint",
        checkpoint: { seq: head.seq, hash: head.hash },
      });
      const expected = `sha256=${createHmac("sha256", secret).update(`${received[0]!.timestamp}.${received[0]!.body}`).digest("hex")}`;
      expect(received[0]!.signature).toBe(expected);
      // Nothing new in the log: nothing sent. A new event: a new checkpoint.
      expect(await sendAuditCheckpoint(webhooks.notifyWebhookEvent)).toBeUndefined();
      await recordAuditEvent(TEST_ACTOR, "test.checkpoint", "log", {});
      expect((await sendAuditCheckpoint(webhooks.notifyWebhookEvent))?.seq).toBe(head.seq + 1);
      await webhooks.settleWebhookDeliveries();
      expect(received).toHaveLength(2);

      const pinned = `${head.seq}:${head.hash}`;
      const good = await runAdmin(["verify", "audit", "--checkpoint", pinned]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(`checkpoint ${head.seq}: matches`);
      // A log whose event there has another hash than the one kept outside (rewritten), or none (removed).
      const other = await runAdmin(["verify", "audit", "--checkpoint", `${head.seq}:${"0".repeat(64)}`]);
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/another hash \(the chain was rewritten\)/);
      const gone = await runAdmin(["verify", "audit", "--checkpoint", `999999:${head.hash}`]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/no event there/);
      const bad = await runAdmin(["verify", "audit", "--checkpoint", "12:nothex"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/expected SEQ:HASH/);
    } finally {
      await webhooks.deleteWebhook(TEST_ACTOR, webhook.id);
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

describe("audit log chain", () => {
  it("verifies, fails at an altered or deleted event, and keeps one chain under concurrent appends", async () => {
    const { recordAuditEvent } = await import("@/server/audit");
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => recordAuditEvent(TEST_ACTOR, "test.race", `t${i}`, { i })),
    );
    const before = await verifyAudit();
    expect(before).toMatchObject({ ok: true, unchained: 0 });
    const seqs = await onStore((sql) => sql`select seq from audit_events order by id`);
    expect(seqs.map((r) => Number(r.seq))).toEqual(seqs.map((_, i) => i + 1));
    expect(before.events).toBe(seqs.length);

    const [victim] = await onStore(
      (sql) => sql`select id, seq, details from audit_events where action = 'test.race' order by id limit 1`,
    );
    const seq = Number(victim?.seq);
    await onStore((sql) => sql`update audit_events set details = '{"i": 999}' where id = ${victim?.id}`);
    expect(await verifyAudit()).toMatchObject({
      ok: false,
      firstBadSeq: seq,
      firstBadId: Number(victim?.id),
    });
    const cli = await runAdmin(["verify", "audit"]);
    expect(cli.code).toBe(1);
    await onStore(
      (sql) => sql`update audit_events set details = ${sql.json(victim?.details)} where id = ${victim?.id}`,
    );
    expect(await verifyAudit()).toMatchObject({ ok: true });

    await onStore((sql) => sql`update audit_events set actor_label = 'someone else' where seq = ${seq + 1}`);
    expect(await verifyAudit()).toMatchObject({ ok: false, firstBadSeq: seq + 1 });
    await onStore(
      (sql) => sql`update audit_events set actor_label = ${TEST_ACTOR.label} where seq = ${seq + 1}`,
    );

    await onStore((sql) => sql`delete from audit_events where seq = ${seq + 2}`);
    expect(await verifyAudit()).toMatchObject({
      ok: false,
      firstBadSeq: seq + 2,
      reason: `event ${seq + 2} is missing`,
    });
  });
});

interface Bundle {
  session: { id: string };
  events: { seq: number | null; hash: string | null; data: Record<string, unknown> }[];
  auditEvents: { action: string }[];
  integrity: { session: { head: { seq: number; hash: string }; verification: unknown } };
}

/** The evidence bundle as the download gives it: the streamed file, parsed. */
async function bundleOf(principal: Principal, sessionId: string): Promise<Bundle> {
  const { streamEvidenceBundle } = await import("@/server/audit");
  const { collectText } = await import("@/server/http/file-pieces");
  const text = await collectText((await streamEvidenceBundle(principal, sessionId)).body);
  // Written a piece at a time, it is still exactly what JSON.stringify(bundle, null, 2) writes.
  expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
  return JSON.parse(text) as Bundle;
}

describe("evidence bundle", () => {
  it("holds the session, its events with hashes, its review's audit events and a passing proof", async () => {
    const sessionId = await sqlSession();
    const bundle = await bundleOf(auditor, sessionId);
    expect(bundle.session.id).toBe(sessionId);
    expect(bundle.events.map((e) => e.seq)).toEqual(bundle.events.map((_, i) => i + 1));
    expect(bundle.events.every((e) => /^[0-9a-f]{64}$/.test(e.hash ?? ""))).toBe(true);
    expect(bundle.auditEvents.map((e) => e.action)).toContain("review.create");
    expect(bundle.integrity.session.verification).toMatchObject({ ok: true, events: bundle.events.length });
    expect(bundle.integrity.session.head.hash).toBe(bundle.events.at(-1)?.hash);
    // The owner may take their own bundle; another member may not learn the session exists.
    await expect(bundleOf(analyst, sessionId)).resolves.toMatchObject({
      session: { id: sessionId },
    });
    await expect(bundleOf(outsider, sessionId)).rejects.toMatchObject({ status: 404 });
  });
});

describe("evidence bundle checked on its own", () => {
  it("verifies an exported bundle without a store, and fails one edited after export or with another head", async () => {
    const sessionId = await sqlSession();
    const bundle = await bundleOf(auditor, sessionId);
    const dir = mkdtempSync(path.join(tmpdir(), "bundle-"));
    const write = (name: string, value: unknown) => {
      const file = path.join(dir, name);
      writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
      return file;
    };
    // An auditor's machine: no store, no master key (the chains were computed by the database on append).
    const offline = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dir };
    const head = bundle.integrity.session.head.hash as string;
    const good = await runAdmin(["verify", "bundle", write("good.json", bundle), "--head", head], offline);
    expect(good.stderr).toBe("");
    expect(good.code).toBe(0);
    expect(good.stdout).toContain(
      `(session ${sessionId}): verified (${bundle.events.length} events, head ${head})`,
    );

    const edited = structuredClone(bundle);
    edited.events[1]!.data = { ...edited.events[1]!.data, input: "select 'something else'" };
    const bad = await runAdmin(["verify", "bundle", write("edited.json", edited)], offline);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAILED at event 2: event 2 does not match its hash/);

    const dropped = structuredClone(bundle);
    dropped.events.pop();
    const short = await runAdmin(["verify", "bundle", write("dropped.json", dropped)], offline);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/missing \(the chain head records/);

    const other = await runAdmin(
      ["verify", "bundle", write("good2.json", bundle), "--head", "0".repeat(64)],
      offline,
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/not the head you pinned/);

    const notBundle = await runAdmin(["verify", "bundle", write("other.json", { hello: 1 })], offline);
    expect(notBundle.code).toBe(1);
    expect(notBundle.stderr).toMatch(/not an evidence bundle: session/);
    const notJson = await runAdmin(["verify", "bundle", write("broken.json", "{")], offline);
    expect(notJson.stderr).toMatch(/is not JSON/);
  });
});

describe("retention", () => {
  it("deletes sessions that ended before the cutoff with their events, keeps live and recent ones, and audits", async () => {
    const { endSession, startSession, appendSessionEvent } = await import("@/server/recording");
    const { deleteExpiredSessions } = await import("@/server/retention");
    const conn = { id: "c-ret", name: "retained" };
    const oldEnded = await startSession(analyst, conn, "sql", "api");
    await appendSessionEvent(oldEnded, "statement", { input: "select 1", decision: "allow" });
    await endSession(oldEnded);
    const oldFailed = await startSession(analyst, conn, "terminal", "terminal");
    await endSession(oldFailed, "failed");
    const oldLive = await startSession(analyst, conn, "terminal", "terminal");
    const recentEnded = await startSession(analyst, conn, "sql", "api");
    await endSession(recentEnded);
    await onStore(
      (
        sql,
      ) => sql`update sessions set started_at = now() - interval '40 days', last_activity_at = now() - interval '40 days',
        ended_at = case when state = 'live' then null else now() - interval '39 days' end
        where id in ${sql([oldEnded, oldFailed, oldLive])}`,
    );

    const run = await deleteExpiredSessions({ days: 30 });
    expect(run.deleted).toBe(2);
    const left = await onStore((sql) => sql`select id from sessions where connection_name = 'retained'`);
    expect(left.map((r) => r.id).sort()).toEqual([oldLive, recentEnded].sort());
    const orphans = await onStore(
      (sql) => sql`select count(*)::int as n from session_events where session_id = ${oldEnded}`,
    );
    expect(orphans[0]?.n).toBe(0);
    const [audit] = await onStore(
      (sql) =>
        sql`select actor_label, details from audit_events where action = 'retention.delete' order by id desc limit 1`,
    );
    expect(audit?.actor_label).toBe("system");
    expect(audit?.details).toMatchObject({ deleted: 2, retentionDays: 30, cutoff: run.cutoff.toISOString() });

    // Nothing more to delete: no audit event for an empty scheduled run.
    const again = await deleteExpiredSessions({ days: 30 });
    expect(again.deleted).toBe(0);
    const count = await onStore(
      (sql) => sql`select count(*)::int as n from audit_events where action = 'retention.delete'`,
    );
    expect(count[0]?.n).toBe(1);
  });
});
