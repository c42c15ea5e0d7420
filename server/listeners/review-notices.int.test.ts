// A native client whose held statement is decided is told, by an asynchronous NoticeResponse, on the connection
// that holds it only: approved (with what to do), denied (with the approver's comment), expired; decided on this
// console process or on another one sharing the store (a second Node process, replica-decide.fixture.ts).
// Real parts: node-postgres and Debian's psql through the listener, the real route handlers for the decisions,
// PostgreSQL 15 for the target and the store.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";
import type { NoticeMessage } from "pg-protocol/dist/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApprovalsConsole, startApprovalsConsole } from "./approvals.fixture";
import type { PgListener } from "./pg-listener";

const PUBLIC_URL = "http://console.example.test";
const CARD = "4111 1111 1111 1111";

let gateway: ApprovalsConsole;
let listener: PgListener;
let token: string;
let approverId: string;
let replica: ChildProcessWithoutNullStreams;
let replicaOutput = "";

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startApprovalsConsole({
    name: "review-notices",
    targetSql: "create table notes (id int, body text);",
    accounts: ["report-bot"],
    publicUrl: PUBLIC_URL,
  });
  ({ listener, approverId } = gateway);
  token = gateway.tokens["report-bot"] ?? "";
  replica = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      "./scripts/server-only-hook.mjs",
      "server/listeners/replica-decide.fixture.ts",
    ],
    {
      cwd: path.resolve(__dirname, "../.."),
      env: { ...process.env, DATABASE_URL: gateway.storeUrl, DATA_DIR: gateway.dataDir },
    },
  );
  replica.stdout.on("data", (chunk: Buffer) => {
    replicaOutput += chunk.toString();
  });
  replica.stderr.on("data", (chunk: Buffer) => {
    replicaOutput += chunk.toString();
  });
  await waitFor(() => replicaOutput.includes("ready\n"), "the other replica", 60_000);
}, 120_000);

afterAll(async () => {
  if (replica) {
    const exited = new Promise((resolve) => replica.once("exit", resolve));
    replica.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (replica.exitCode === null) replica.kill();
  }
  await gateway?.stop();
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const decide = async (reviewId: string, decision: "approve" | "deny", comment = "fine") => {
  await gateway.decide(reviewId, decision, comment);
};

/** Decides a review on the other console process; resolves to its answer. */
async function decideOnReplica(reviewId: string, decision: "approve" | "deny") {
  const from = replicaOutput.length;
  replica.stdin.write(`${decision} ${reviewId} ${approverId}\n`);
  await waitFor(() => replicaOutput.slice(from).includes("\n"), "the other replica's answer");
  return JSON.parse(replicaOutput.slice(from).split("\n")[0] ?? "") as { ok?: string; error?: string };
}

const onStore: ApprovalsConsole["onStore"] = (body) => gateway.onStore(body);

const notesWithId = async (id: number) =>
  (await gateway.onTarget((sql) => sql`select count(*)::int as n from notes where id = ${id}`))[0]
    ?.n as number;

const reviewIdIn = (text: string) => /held for review ([0-9a-f-]{36})/.exec(text)?.[1];

/** A node-postgres client through the listener, with every notice it receives. */
async function connect() {
  const c = new pg.Client({
    host: "127.0.0.1",
    port: listener.port,
    database: "shop",
    user: "report-bot",
    password: token,
    ssl: { rejectUnauthorized: false },
  });
  const notices: NoticeMessage[] = [];
  c.on("notice", (n) => notices.push(n));
  c.on("error", () => {});
  await c.connect();
  return { c, notices };
}

async function hold(c: pg.Client, text: string, values?: unknown[]) {
  const held = await c.query(text, values).catch((e: Error) => e);
  expect(held).toMatchObject({ code: "42501" });
  const reviewId = reviewIdIn(String((held as Error).message));
  if (!reviewId) throw new Error(`not held: ${String(held)}`);
  return reviewId;
}

describe("the client holding a statement is told when it is decided (node-postgres)", () => {
  it("gets a notice when another person approves it, saying to send it again before the approval expires; another connection of the same principal gets nothing", async () => {
    const holder = await connect();
    const sibling = await connect();
    try {
      const reviewId = await hold(holder.c, "insert into notes values ($1, $2)", [50, CARD]);
      await decide(reviewId, "approve", "ok for today");
      await waitFor(() => holder.notices.length > 0, "the approval notice");
      const [notice] = holder.notices;
      expect(notice).toMatchObject({ severity: "NOTICE", code: "00000" });
      expect(notice?.message).toContain(
        `review ${reviewId} of your write statement was approved by approver@example.com`,
      );
      expect(notice?.detail).toBe("approver@example.com: ok for today");
      const { expiresAt } = (
        await onStore((sql) => sql`select expires_at as "expiresAt" from reviews where id = ${reviewId}`)
      )[0] as { expiresAt: Date };
      expect(notice?.hint).toContain(
        `send exactly the same statement (with the same values) again on this connection before ${expiresAt.toISOString()}`,
      );
      // nothing of the values: the card number is neither in the notice nor in its masked form
      expect(JSON.stringify(notice)).not.toContain("4111");

      // The sibling connection (same principal) is told nothing, even after a round trip of its own.
      await sibling.c.query("select 1");
      expect(sibling.notices).toEqual([]);

      // Doing what the notice says runs it, once.
      await holder.c.query("insert into notes values ($1, $2)", [50, CARD]);
      expect(await notesWithId(50)).toBe(1);
      expect(holder.notices).toHaveLength(1);
    } finally {
      await holder.c.end();
      await sibling.c.end();
    }
  });

  it("gets a notice with the approver's comment when it is denied", async () => {
    const { c, notices } = await connect();
    try {
      const reviewId = await hold(c, "insert into notes values (51, 'no')");
      await decide(reviewId, "deny", "use the staging database\n\tplease");
      await waitFor(() => notices.length > 0, "the denial notice");
      expect(notices[0]?.message).toBe(
        `Portcullis: review ${reviewId} of your write statement was denied by approver@example.com: it will not run`,
      );
      expect(notices[0]?.detail).toBe("approver@example.com: use the staging database please");
      expect(notices[0]?.hint).toBeUndefined();
    } finally {
      await c.end();
    }
  });

  it("gets a notice when the review expires", async () => {
    const { c, notices } = await connect();
    try {
      const reviewId = await hold(c, "insert into notes values (52, 'late')");
      await onStore(
        (sql) => sql`update reviews set expires_at = now() - interval '1 second' where id = ${reviewId}`,
      );
      const { expireOverdueReviews } = await import("@/server/approvals");
      await expireOverdueReviews(); // what the listener's sweep (or anyone reading reviews) does
      await waitFor(() => notices.length > 0, "the expiry notice");
      expect(notices[0]?.message).toBe(
        `Portcullis: review ${reviewId} of your write statement expired without a decision: it will not run`,
      );

      // An approval not used in time expires too, and is told so.
      const approvedId = await hold(c, "insert into notes values (52, 'approved, unused')");
      await decide(approvedId, "approve");
      await waitFor(() => notices.length > 1, "the approval notice");
      await onStore(
        (sql) => sql`update reviews set expires_at = now() - interval '1 second' where id = ${approvedId}`,
      );
      await expireOverdueReviews();
      await waitFor(() => notices.length > 2, "the approval's expiry notice");
      expect(notices[2]?.message).toBe(
        `Portcullis: review ${approvedId} of your write statement expired (its approval was not used in time): it will not run`,
      );
    } finally {
      await c.end();
    }
  });

  it("is told of a decision taken on another console process (NOTIFY through the store)", async () => {
    const { c, notices } = await connect();
    try {
      const reviewId = await hold(c, "insert into notes values (53, 'elsewhere')");
      expect(await decideOnReplica(reviewId, "approve")).toEqual({ ok: "approved" });
      await waitFor(() => notices.length > 0, "the approval notice from the other replica");
      expect(notices[0]?.message).toContain(
        `review ${reviewId} of your write statement was approved by approver@example.com`,
      );
      expect(notices[0]?.detail).toBe("approver@example.com: approve from the other replica");
      await c.query("insert into notes values (53, 'elsewhere')");
      expect(await notesWithId(53)).toBe(1);
      expect(notices).toHaveLength(1); // once, not again by its own NOTIFY or another path
    } finally {
      await c.end();
    }
  });
});

describe("what does not reach a client, and when it does", () => {
  const sessionOf = async (reviewId: string) =>
    (await onStore((sql) => sql`select session_id from reviews where id = ${reviewId}`))[0]
      ?.session_id as string;
  const forge = (payload: object) =>
    onStore((sql) => sql`select pg_notify('portcullis_review_decided', ${JSON.stringify(payload)})`);

  it("tells nobody of a forged or stale decision: another session's review, or a state the review is not in", async () => {
    const a = await connect();
    const b = await connect();
    try {
      const mine = await hold(a.c, "insert into notes values (60, 'a')");
      const theirs = await hold(b.c, "insert into notes values (61, 'b')");
      const [sessionA, sessionB] = [await sessionOf(mine), await sessionOf(theirs)];
      expect(sessionA).not.toBe(sessionB);
      // A's review pointed at B's connection; A's pending review said approved; a payload that is not ours.
      await forge({ origin: "elsewhere", reviewId: mine, sessionId: sessionB, state: "approved" });
      await forge({ origin: "elsewhere", reviewId: mine, sessionId: sessionA, state: "approved" });
      await forge({ origin: "elsewhere", reviewId: mine, sessionId: sessionA, state: "executed" });
      await forge({ reviewId: mine, sessionId: sessionA });
      // The real decision after them arrives, and is the only notice (NOTIFYs are delivered in order).
      await decide(mine, "deny", "");
      await waitFor(() => a.notices.length > 0, "the real notice");
      await b.c.query("select 1");
      await a.c.query("select 1");
      expect(a.notices.map((n) => n.message)).toEqual([
        `Portcullis: review ${mine} of your write statement was denied by approver@example.com: it will not run`,
      ]);
      expect(b.notices).toEqual([]);
    } finally {
      await a.c.end();
      await b.c.end();
    }
  });

  it("tells the requester's connection when the requester cancels the review", async () => {
    const { c, notices } = await connect();
    try {
      const reviewId = await hold(c, "insert into notes values (62, 'never mind')");
      const { principalFromToken } = await import("@/server/auth");
      const { cancelReview } = await import("@/server/approvals");
      const bot = await principalFromToken(token);
      if (!bot) throw new Error("no service account");
      await cancelReview(bot, reviewId);
      await waitFor(() => notices.length > 0, "the cancellation notice");
      expect(notices[0]?.message).toBe(
        `Portcullis: review ${reviewId} of your write statement was cancelled: it will not run`,
      );
    } finally {
      await c.end();
    }
  });

  it("waits while the client's query runs, and comes right after its ReadyForQuery", async () => {
    const { c, notices } = await connect();
    try {
      const reviewId = await hold(c, "insert into notes values (63, 'busy')");
      const order: string[] = [];
      c.on("notice", () => order.push("notice"));
      const running = new Promise<void>((resolve, reject) =>
        c.query("select pg_sleep(3)", (err) => {
          order.push("query done");
          if (err) reject(err);
          else resolve();
        }),
      );
      await decide(reviewId, "approve");
      order.push("decided");
      await running;
      await waitFor(() => notices.length > 0, "the approval notice");
      // the decision was told while the query ran, and the notice still came after the query's end
      expect(order).toEqual(["decided", "query done", "notice"]);
    } finally {
      await c.end();
    }
  });
});

describe("psql prints the notice", () => {
  it("on its next read: the following query's output comes with the approval", async () => {
    const child = spawn(
      "psql",
      [`host=127.0.0.1 port=${listener.port} dbname=shop user=report-bot sslmode=require`, "-X"],
      { env: { ...process.env, PGPASSWORD: token } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // The notice is sent when the decision reaches this connection, which may be just after the route answered:
    // psql prints it on its first read after that. Each round is a query and its output; the notice must come
    // with one of them, and the query's output with it.
    let round = 0;
    const readUntil = async (notice: string) => {
      const from = stderr.length;
      await waitFor(async () => {
        const marker = `round-${++round}-done`;
        child.stdin.write(`select 'next' as step;\n\\echo ${marker}\n`);
        await waitFor(() => stdout.includes(marker), "psql's next query");
        return stderr.slice(from).includes(notice);
      }, "the notice on psql's next read");
    };
    try {
      child.stdin.write("insert into notes values (54, 'psql');\n\\echo held-done\n");
      await waitFor(() => stdout.includes("held-done"), "psql's held statement");
      const reviewId = reviewIdIn(stderr);
      expect(reviewId).toBeDefined();
      await decide(reviewId ?? "", "approve");
      const { getReview } = await import("@/server/approvals");
      const { loadPrincipal } = await import("@/server/auth");
      const approver = await loadPrincipal(approverId, "session");
      if (!approver) throw new Error("no approver");
      expect((await getReview(approver, reviewId ?? "")).state).toBe("approved");
      const before = stderr.length;
      await readUntil(
        `NOTICE:  Portcullis: review ${reviewId} of your write statement was approved by approver@example.com`,
      );
      expect(stderr.slice(before)).toContain("HINT:  to run it, send exactly the same statement");
      expect(stdout).toMatch(/step\s*\n-+\n\s*next/);

      // A held COPY FROM STDIN: its approval is told with how to load it (the same COPY, the same data).
      const copyFrom = stderr.length;
      child.stdin.write("copy notes from stdin;\n55\tcopied\n\\.\n\\echo copy-done\n");
      await waitFor(() => stdout.includes("copy-done"), "psql's COPY");
      const copyReview = reviewIdIn(stderr.slice(copyFrom));
      expect(copyReview).toBeDefined();
      await decide(copyReview ?? "", "approve");
      const afterCopy = stderr.length;
      await readUntil(
        `NOTICE:  Portcullis: review ${copyReview} of your write statement was approved by approver@example.com`,
      );
      expect(stderr.slice(afterCopy)).toContain(
        "HINT:  to load it, send the same COPY with exactly the same data again on this connection",
      );
      expect(await notesWithId(55)).toBe(0); // the approval itself loads nothing
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    }
  });
});
