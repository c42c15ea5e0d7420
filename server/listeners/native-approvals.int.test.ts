import { createHash } from "node:crypto";
import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApprovalsConsole,
  interactivePsql as openPsql,
  startApprovalsConsole,
} from "./approvals.fixture";
import type { PgListener } from "./pg-listener";

const PUBLIC_URL = "http://console.example.test";
const CARD = "4111 1111 1111 1111";

let gateway: ApprovalsConsole;
let listener: PgListener;
let token: string;
let otherToken: string;
let approverId: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startApprovalsConsole({
    name: "native-approvals",
    targetSql: "create table notes (id int, body text);",
    accounts: ["report-bot", "other-bot"],
    publicUrl: PUBLIC_URL,
  });
  ({ listener, approverId } = gateway);
  token = gateway.tokens["report-bot"] ?? "";
  otherToken = gateway.tokens["other-bot"] ?? "";
});

afterAll(async () => {
  await gateway?.stop();
});

const decide = (reviewId: string, decision: "approve" | "deny" = "approve") =>
  gateway.decide(reviewId, decision);
const onTarget: ApprovalsConsole["onTarget"] = (body) => gateway.onTarget(body);

const notesWithId = async (id: number) =>
  (await onTarget((sql) => sql`select count(*)::int as n from notes where id = ${id}`))[0]?.n as number;

async function reviewRow(id: string) {
  return (
    await gateway.onStore(
      (sql) => sql`select state, parameters, parameters_hash from reviews where id = ${id}`,
    )
  )[0];
}

const reviewIdIn = (text: string) => /held for review ([0-9a-f-]{36})/.exec(text)?.[1];

/** psql kept open across steps: each step's input and then an \\echo marker, its stdout and stderr returned. */
const interactivePsql = (password: string, user = "report-bot") =>
  openPsql(`host=127.0.0.1 port=${listener.port} dbname=shop user=${user} sslmode=require`, {
    ...process.env,
    PGPASSWORD: password,
    PGAPPNAME: "approvals-test",
  });

describe("a held statement sent again after approval (psql)", () => {
  it("runs once on the same connection, in the client's transaction, and the review shows it executed", async () => {
    const client = interactivePsql(token);
    try {
      const held = await client.send("insert into notes values (42, 'approved later');");
      const reviewId = reviewIdIn(held.stderr);
      expect(reviewId).toBeDefined();
      expect(held.stderr).toMatch(/send exactly this statement .* again on this connection/);

      const approved = await decide(reviewId ?? "");
      expect(approved.state).toBe("approved");
      expect(await notesWithId(42)).toBe(0); // approval runs nothing

      // Another principal's identical statement is not let through: it is held on its own.
      const other = interactivePsql(otherToken, "other-bot");
      try {
        const theirs = await other.send("insert into notes values (42, 'approved later');");
        expect(reviewIdIn(theirs.stderr)).toBeDefined();
        expect(reviewIdIn(theirs.stderr)).not.toBe(reviewId);
      } finally {
        await other.end();
      }
      expect(await notesWithId(42)).toBe(0);

      // A different statement is not let through by it either.
      const changed = await client.send("insert into notes values (42, 'approved later!');");
      expect(reviewIdIn(changed.stderr)).toBeDefined();
      expect(await notesWithId(42)).toBe(0);

      // The same statement, on the same connection, inside the client's own transaction.
      await client.send("begin;");
      const ran = await client.send("insert into notes values (42, 'approved later');");
      expect(ran.stderr).toBe("");
      expect(ran.stdout).toContain("INSERT 0 1");
      const inside = await client.send("select count(*) as mine from notes where id = 42;");
      expect(inside.stdout).toMatch(/mine\s*\n-+\n\s+1/);
      expect(await notesWithId(42)).toBe(0); // not committed yet: it ran in the client's transaction
      await client.send("commit;");
      expect(await notesWithId(42)).toBe(1);

      // Once: a second re-send is held again.
      const again = await client.send("insert into notes values (42, 'approved later');");
      expect(reviewIdIn(again.stderr)).toBeDefined();
      expect(reviewIdIn(again.stderr)).not.toBe(reviewId);
      expect(await notesWithId(42)).toBe(1);

      expect((await reviewRow(reviewId ?? ""))?.state).toBe("executed");
      const { getReview } = await import("@/server/approvals");
      const { loadPrincipal } = await import("@/server/auth");
      const approver = await loadPrincipal(approverId, "session");
      if (!approver) throw new Error("no approver");
      const review = await getReview(approver, reviewId ?? "");
      expect(review.state).toBe("executed");
      expect(review.result).toMatchObject({ status: "done", rowCount: 1, reviewId });
    } finally {
      await client.end();
      await onTarget((sql) => sql`delete from notes`);
    }
  });

  it("does not let an approval through on another connection of the same principal", async () => {
    const first = interactivePsql(token);
    let reviewId: string | undefined;
    try {
      reviewId = reviewIdIn((await first.send("insert into notes values (7, 'elsewhere');")).stderr);
      await decide(reviewId ?? "");
    } finally {
      await first.end();
    }
    const second = interactivePsql(token);
    try {
      const out = await second.send("insert into notes values (7, 'elsewhere');");
      expect(reviewIdIn(out.stderr)).toBeDefined();
      expect(reviewIdIn(out.stderr)).not.toBe(reviewId);
      expect(await notesWithId(7)).toBe(0);
    } finally {
      await second.end();
    }
  });

  it("does not run an approval that expired: sent again, it is held again", async () => {
    const client = interactivePsql(token);
    try {
      const reviewId = reviewIdIn((await client.send("insert into notes values (8, 'late');")).stderr);
      await decide(reviewId ?? "");
      // The approval's period ends (as REVIEW_TTL_MINUTES after the approval would).
      await gateway.onStore(
        (sql) =>
          sql`update reviews set expires_at = now() - interval '1 second' where id = ${reviewId ?? ""}`,
      );
      const out = await client.send("insert into notes values (8, 'late');");
      expect(reviewIdIn(out.stderr)).toBeDefined();
      expect(reviewIdIn(out.stderr)).not.toBe(reviewId);
      expect(await notesWithId(8)).toBe(0);
      expect((await reviewRow(reviewId ?? ""))?.state).toBe("expired");
    } finally {
      await client.end();
    }
  });

  it("does not run a denied statement sent again", async () => {
    const client = interactivePsql(token);
    try {
      const reviewId = reviewIdIn((await client.send("insert into notes values (9, 'no');")).stderr);
      await decide(reviewId ?? "", "deny");
      const out = await client.send("insert into notes values (9, 'no');");
      expect(reviewIdIn(out.stderr)).toBeDefined();
      expect(await notesWithId(9)).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describe("a held statement with parameters (node-postgres)", () => {
  async function connect() {
    const c = new pg.Client({
      host: "127.0.0.1",
      port: listener.port,
      database: "shop",
      user: "report-bot",
      password: token,
      ssl: { rejectUnauthorized: false },
    });
    c.on("error", () => {});
    await c.connect();
    return c;
  }

  it("holds it showing the values masked, and runs it once with exactly the approved values", async () => {
    const c = await connect();
    try {
      const held = await c.query("insert into notes values ($1, $2)", [43, CARD]).catch((e: Error) => e);
      expect(held).toMatchObject({ code: "42501" });
      const reviewId = reviewIdIn(String((held as Error).message));
      expect(reviewId).toBeDefined();

      const approved = await decide(reviewId ?? "");
      expect(approved.parameters).toHaveLength(2);
      expect(approved.parameters).toContain("43");
      expect(JSON.stringify(approved.parameters)).not.toContain(CARD);
      const row = await reviewRow(reviewId ?? "");
      expect(JSON.stringify(row)).not.toContain(CARD);
      expect(JSON.stringify(row)).not.toContain("4111111111111111");
      // the binding is keyed: not a plain hash anyone could compute from a guessed value
      const plain = createHash("sha256")
        .update(JSON.stringify(["43", CARD]))
        .digest("hex");
      expect(row?.parameters_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row?.parameters_hash).not.toBe(plain);

      // The same text with other values is not the approved statement.
      const other = await c
        .query("insert into notes values ($1, $2)", [43, "something else"])
        .catch((e) => e);
      expect(other).toMatchObject({ code: "42501" });
      expect(reviewIdIn(String((other as Error).message))).not.toBe(reviewId);
      expect(await notesWithId(43)).toBe(0);

      const ran = await c.query("insert into notes values ($1, $2)", [43, CARD]);
      expect(ran.rowCount).toBe(1);
      const stored = await onTarget((sql) => sql`select body from notes where id = 43`);
      expect(stored.map((r) => r.body)).toEqual([CARD]); // the approved value itself, not its masked form

      const again = await c.query("insert into notes values ($1, $2)", [43, CARD]).catch((e) => e);
      expect(again).toMatchObject({ code: "42501" });
      expect(await notesWithId(43)).toBe(1);
      expect((await reviewRow(reviewId ?? ""))?.state).toBe("executed");
    } finally {
      await c.end();
      await onTarget((sql) => sql`delete from notes`);
    }
  });

  it("runs an approved statement sent again by postgres.js (prepare: true: Describe, then Bind/Execute)", async () => {
    const sql = postgres({
      host: "127.0.0.1",
      port: listener.port,
      database: "shop",
      username: "report-bot",
      password: token,
      ssl: { rejectUnauthorized: false },
      prepare: true,
      max: 1,
      onnotice: () => {},
    });
    try {
      const held = await sql`insert into notes values (${44}, ${"via postgres.js"})`.catch((e: Error) => e);
      const reviewId = reviewIdIn(String((held as Error).message));
      expect(reviewId).toBeDefined();
      await decide(reviewId ?? "");
      expect(await notesWithId(44)).toBe(0);
      await sql`insert into notes values (${44}, ${"via postgres.js"})`;
      expect(await notesWithId(44)).toBe(1);
      await expect(sql`insert into notes values (${44}, ${"via postgres.js"})`).rejects.toMatchObject({
        code: "42501",
      });
      expect(await notesWithId(44)).toBe(1);
    } finally {
      await sql.end();
      await onTarget((t) => t`delete from notes`);
    }
  });
});
