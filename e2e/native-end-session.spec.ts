// An admin ends a live psql session from /sessions: a service's psql (run by the test, Debian's psql) connects
// through the listener; the admin filters the list to native sessions, sees the client's application name and
// address, presses End session and confirms; the row shows the session ended at once, and psql reports the
// termination (SQLSTATE 57P01, naming the admin). A console of its own, with the listener on.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { expect, test } from "@playwright/test";
import { getFreePort } from "../test/harness/free-port";
import { type RunningConsole, startConsole } from "./support/console";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const CONNECTION = "warehouse-end";
const ACCOUNT = "report-bot";
let own: RunningConsole;
let listenPort: number;
let psql: ChildProcessWithoutNullStreams | undefined;

test.beforeAll(async () => {
  listenPort = await getFreePort();
  own = await startConsole({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO_TARGET: "off",
    PG_LISTEN_PORT: String(listenPort),
    PG_LISTEN_HOST: "127.0.0.1",
  });
});

test.afterAll(async () => {
  psql?.kill("SIGKILL");
  await own?.stop();
});

test("an admin ends a live psql session from /sessions and psql is told so (57P01)", async ({ page }) => {
  const target = e2eEnv.targetPg;
  await signIn(page, own.url, ADMIN.email, ADMIN.password);
  expect(
    (await page.request.post(`${own.url}/api/v1/groups`, { data: { name: "reporting" } })).status(),
  ).toBe(201);
  const created = await page.request.post(`${own.url}/api/v1/connections`, {
    data: {
      kind: "postgres",
      name: CONNECTION,
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      groups: ["reporting"],
    },
  });
  expect(created.status()).toBe(201);
  const account = await page.request.post(`${own.url}/api/v1/service-accounts`, {
    data: { name: ACCOUNT, groups: ["reporting"] },
  });
  expect(account.status()).toBe(201);
  const { token } = (await account.json()) as { token: string };

  // The service's psql, from this machine (plain text is accepted from loopback), verbose errors.
  psql = spawn(
    "psql",
    [
      "-X",
      "-v",
      "ON_ERROR_STOP=0",
      "-v",
      "VERBOSITY=verbose",
      `host=127.0.0.1 port=${listenPort} dbname=${CONNECTION} user=${ACCOUNT} sslmode=disable`,
    ],
    { env: { ...process.env, PGPASSWORD: token, PGAPPNAME: "nightly-report" } },
  );
  let output = "";
  psql.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  psql.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => psql?.once("exit", resolve));
  psql.stdin.write("select 40 + 2 as answer;\n");

  // The admin lists native sessions only.
  await page.goto(`${own.url}/sessions`);
  const filters = page.getByRole("form", { name: "Filter sessions" });
  await filters.getByLabel("Channel").selectOption({ label: "native" });
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/channel=native/);
  const row = page.getByRole("row", { name: new RegExp(`service:${ACCOUNT}`) });
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText("live", { timeout: 1_000 });
    await expect(row).toContainText("nightly-report · 127.0.0.1", { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await snap(page, "native-end-01-live");

  // End session, confirmed: the row shows it ended at once, with no button left.
  const end = row.getByRole("button", { name: `End the native session of service:${ACCOUNT}` });
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await end.click();
  await expect(row.locator(".tag")).toHaveText("ended");
  await expect(end).toHaveCount(0);
  expect(asked).toContain(`End the native session of service:${ACCOUNT}?`);
  await snap(page, "native-end-02-ended");

  // psql was told why, with PostgreSQL's code for an administrator's termination.
  psql.stdin.write("select 1;\n");
  psql.stdin.end();
  await exited;
  expect(output).toMatch(/answer\s*\n-+\n\s+42/);
  expect(output).toMatch(/FATAL:\s+57P01: terminating connection: ended by admin@example\.com/);

  // The session's page names the client and shows the end.
  await row.getByRole("link", { name: `service:${ACCOUNT}` }).click();
  await expect(page.getByText("Client nightly-report · 127.0.0.1")).toBeVisible();
  await expect(page.locator(".session-meta .tag")).toHaveText("ended");
  await snap(page, "native-end-03-session");

  // The end is in the audit log, naming the session.
  const audit = await page.request.get(`${own.url}/api/v1/audit?action=native_session.end`);
  expect(JSON.stringify(await audit.json())).toContain(ACCOUNT);
});
