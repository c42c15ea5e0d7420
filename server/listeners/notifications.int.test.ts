// LISTEN/NOTIFY through the listener, on real parts: node-postgres and Debian's psql listening through the
// gateway, PostgreSQL 15 sending the notifications (pg_notify from another session on the target). Each payload
// reaches the client masked, in order, after it was recorded in the client's session; one that cannot be
// recorded is never passed on, and the client is ended rather than left waiting.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApprovalsConsole, interactivePsql, startApprovalsConsole } from "./approvals.fixture";

const PUBLIC_URL = "http://console.example.test";
const CARD = "4111 1111 1111 1111";
const EMAIL = "grace.hopper@example.com";

let gateway: ApprovalsConsole;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startApprovalsConsole({
    name: "notifications",
    targetSql: "create table notes (id int, body text);",
    accounts: ["listener-bot"],
    publicUrl: PUBLIC_URL,
  });
});

afterAll(async () => {
  await gateway?.stop();
});

async function connect() {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: gateway.listener.port,
    database: "shop",
    user: "listener-bot",
    password: gateway.tokens["listener-bot"],
    ssl: { rejectUnauthorized: false },
  });
  const notifications: { channel: string; payload?: string; processId: number }[] = [];
  client.on("notification", (n) => notifications.push(n));
  client.on("error", () => {});
  await client.connect();
  return { client, notifications };
}

/** pg_notify from a session of the target's own (not through the gateway). */
const notify = (channel: string, payload: string) =>
  gateway.onTarget((sql) => sql`select pg_notify(${channel}, ${payload})`);

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Everything the store holds of session events, as text. */
const storedEvents = () =>
  gateway.onStore(async (sql) => {
    const rows = await sql`select type, data from session_events order by at, seq`;
    return rows.map((r) => ({ type: String(r.type), data: r.data as Record<string, unknown> }));
  });

describe("LISTEN through the gateway", () => {
  it("passes each notification on in order, masked, after it is recorded in the session", async () => {
    const { client, notifications } = await connect();
    try {
      await client.query("LISTEN orders");
      await notify("orders", `paid with ${CARD} by ${EMAIL}`);
      await notify("orders", "second");
      await notify("elsewhere", "not listened to");
      await notify("orders", "third");
      await waitFor(() => notifications.length >= 3, "three notifications");
      expect(notifications.map((n) => [n.channel, n.payload])).toEqual([
        ["orders", expect.stringContaining("paid with")],
        ["orders", "second"],
        ["orders", "third"],
      ]);
      const first = notifications[0]?.payload ?? "";
      expect(first).not.toContain(CARD);
      expect(first).not.toContain(CARD.replaceAll(" ", ""));
      expect(first).not.toContain(EMAIL);
      // The process id is the one the client was given, not the target backend's.
      expect(notifications[0]?.processId).toBe((client as unknown as { processID: number }).processID);
      const recorded = (await storedEvents()).filter((e) => e.type === "notification");
      expect(recorded.map((e) => e.data.payload)).toEqual([first, "second", "third"]);
      expect(recorded[0]?.data.maskedTypes).toEqual(expect.arrayContaining(["credit_card", "email"]));
      expect(JSON.stringify(await storedEvents())).not.toContain(CARD);
      // The connection goes on as before.
      expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it("is printed by psql with its next command's output, as PostgreSQL's own would be", async () => {
    const psql = interactivePsql(
      `host=127.0.0.1 port=${gateway.listener.port} dbname=shop user=listener-bot sslmode=require`,
      { ...process.env, PGPASSWORD: gateway.tokens["listener-bot"] },
    );
    try {
      expect((await psql.send("LISTEN jobs;")).stdout).toContain("LISTEN");
      await notify("jobs", "job 42 done");
      // Passed on once it is recorded: psql prints it on a read after that.
      let printed = "";
      await waitFor(async () => {
        printed += (await psql.send("select 1;")).stdout;
        return printed.includes('Asynchronous notification "jobs"');
      }, "psql to print the notification");
      expect(printed).toMatch(/Asynchronous notification "jobs" with payload "job 42 done" received/);
    } finally {
      await psql.end();
    }
  });

  it("never passes on a notification that cannot be recorded, and ends the client", async () => {
    const { client, notifications } = await connect();
    const ended = new Promise<Error | undefined>((resolve) => {
      client.on("error", (err) => resolve(err));
      client.on("end", () => resolve(undefined));
    });
    try {
      await client.query("LISTEN alerts");
      await gateway.onStore((sql) =>
        sql.unsafe(`
          create function refuse_notifications() returns trigger language plpgsql as $$
            begin raise exception 'the store refuses notifications'; end $$;
          create trigger refuse_notifications before insert on session_events
            for each row when (new.type = 'notification') execute function refuse_notifications();`),
      );
      await notify("alerts", `card ${CARD}`);
      const error = await ended;
      expect(error?.message ?? "").toContain("a notification from the target could not be recorded");
      expect(notifications).toEqual([]);
    } finally {
      await gateway.onStore((sql) =>
        sql.unsafe(
          "drop trigger refuse_notifications on session_events; drop function refuse_notifications();",
        ),
      );
      await client.end().catch(() => {});
    }
  });
});
