// A program's parameterized write through the PostgreSQL listener is held; an approver opens it in the inbox,
// sees the statement with its values masked as recorded (never the card number), approves it, and the program
// sends the same statement again on its connection: it runs once, and the review shows it executed. Real parts:
// a console of its own with the listener on, node-postgres as the program, the shared PostgreSQL target.
import { expect, test } from "@playwright/test";
import pg from "pg";
import postgres from "postgres";
import { getFreePort } from "../test/harness/free-port";
import { type RunningConsole, startConsole } from "./support/console";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const CARD = "4111 1111 1111 1111";
const CONNECTION = "warehouse-approvals";
const TABLE = "native_approval_notes";
let own: RunningConsole;
let listenPort: number;

async function onTarget<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const t = e2eEnv.targetPg;
  const sql = postgres({ ...t, username: t.user, max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end();
  }
}

test.beforeAll(async () => {
  listenPort = await getFreePort();
  own = await startConsole({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO_TARGET: "off",
    PG_LISTEN_PORT: String(listenPort),
    PG_LISTEN_HOST: "127.0.0.1",
  });
  await onTarget((sql) => sql.unsafe(`create table if not exists ${TABLE} (id int, card text)`));
});

test.afterAll(async () => {
  await onTarget((sql) => sql.unsafe(`drop table if exists ${TABLE}`)).catch(() => {});
  await own?.stop();
});

test("an approver sees a held native statement's values masked, approves it, and the program's re-send runs once", async ({
  page,
}) => {
  const target = e2eEnv.targetPg;
  await signIn(page, own.url, ADMIN.email, ADMIN.password);
  expect((await page.request.post(`${own.url}/api/v1/groups`, { data: { name: "loaders" } })).status()).toBe(
    201,
  );
  const created = await page.request.post(`${own.url}/api/v1/connections`, {
    data: {
      kind: "postgres",
      name: CONNECTION,
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      groups: ["loaders"],
    },
  });
  expect(created.status()).toBe(201);
  const account = await page.request.post(`${own.url}/api/v1/service-accounts`, {
    data: { name: "loader-bot", groups: ["loaders"] },
  });
  expect(account.status()).toBe(201);
  const { token } = (await account.json()) as { token: string };

  // The program: node-postgres through the listener (plain text from loopback).
  const client = new pg.Client({
    host: "127.0.0.1",
    port: listenPort,
    database: CONNECTION,
    user: "loader-bot",
    password: token,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const insert = `insert into ${TABLE} values ($1, $2)`;
    const held = await client.query(insert, [1, CARD]).catch((e: Error) => e);
    const reviewId = /held for review ([0-9a-f-]{36})/.exec(String((held as Error).message))?.[1];
    expect(reviewId).toBeDefined();

    await page.goto(`${own.url}/inbox/${reviewId}`);
    const values = page.locator('[data-kind="parameters"]');
    await expect(values).toContainText("$1 = 1");
    await expect(values).toContainText("1111");
    await expect(page.locator("body")).not.toContainText(CARD);
    await snap(page, "native-approval-01-held-with-values");
    await page.getByRole("button", { name: "Approve" }).click();
    await expect(page.getByText("it runs when the requester sends it again")).toBeVisible();
    await snap(page, "native-approval-02-approved");
    expect(await onTarget((sql) => sql.unsafe(`select count(*)::int as n from ${TABLE}`))).toEqual([
      { n: 0 },
    ]);

    const ran = await client.query(insert, [1, CARD]);
    expect(ran.rowCount).toBe(1);
    expect(await onTarget((sql) => sql.unsafe(`select card from ${TABLE}`))).toEqual([{ card: CARD }]);
    await page.reload();
    await expect(page.getByText("executed", { exact: true })).toBeVisible();
    await snap(page, "native-approval-03-executed");
  } finally {
    await client.end();
  }
});
