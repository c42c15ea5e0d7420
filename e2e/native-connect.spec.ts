// A person connects psql through the gateway: they open "Connect with psql…" in the SQL editor, choose how long
// the credential lasts, copy the psql command, and the test runs exactly that command with Debian's psql (the
// password as psql reads it, PGPASSWORD). The session shows up live in /sessions as a native one; revoking the
// credential on their account page ends the psql session at once. A console of its own, with the listener on.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { getFreePort } from "../test/harness/free-port";
import { type RunningConsole, startConsole } from "./support/console";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const PERSON = { email: "nia.native@example.com", password: "native-password-1" };
const CONNECTION = "warehouse-native";
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

test("a person copies the psql command from Connect, runs it, and the session is live in /sessions", async ({
  page,
  context,
}) => {
  const target = e2eEnv.targetPg;
  // The admin prepares a connection for a group with the person in it.
  await signIn(page, own.url, ADMIN.email, ADMIN.password);
  expect(
    (await page.request.post(`${own.url}/api/v1/groups`, { data: { name: "native-users" } })).status(),
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
      groups: ["native-users"],
    },
  });
  expect(created.status()).toBe(201);
  const person = await page.request.post(`${own.url}/api/v1/users`, {
    data: { ...PERSON, groups: ["native-users"] },
  });
  expect(person.status()).toBe(201);
  await context.clearCookies();

  // The person opens Connect in the SQL editor.
  await signIn(page, own.url, PERSON.email, PERSON.password);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: own.url });
  await page.goto(`${own.url}/editor?connection=${CONNECTION}`);
  await page.getByRole("button", { name: "Connect with psql…" }).click();
  const dialog = page.getByRole("dialog", { name: `Connect to ${CONNECTION} with psql or a driver` });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Valid for").selectOption({ label: "1 hour" });
  await snap(page, "native-connect-01-dialog");
  await dialog.getByRole("button", { name: "Create credential" }).click();
  await expect(dialog.getByText("it is shown only once")).toBeVisible();
  const password = await dialog.getByRole("textbox", { name: "Password" }).inputValue();
  const command = await dialog.getByRole("textbox", { name: "psql command" }).inputValue();
  const uri = await dialog.getByRole("textbox", { name: "Connection URI" }).inputValue();
  expect(password).toMatch(/^pcd_[A-Za-z0-9_-]{43}$/);
  expect(uri).toBe(
    `postgresql://${encodeURIComponent(PERSON.email)}@127.0.0.1:${listenPort}/${CONNECTION}?sslmode=require`,
  );
  expect(command).toBe(`psql '${uri}'`);
  expect(command).not.toContain(password);
  await dialog.getByRole("button", { name: "Copy psql command" }).click();
  await expect(dialog.getByRole("button", { name: "Copy psql command" })).toHaveText("Copied");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(command);
  await snap(page, "native-connect-02-credential");

  // The copied command, run as it is by a shell, with the password as psql reads it.
  psql = spawn("sh", ["-c", `${copied} -X -v ON_ERROR_STOP=0`], {
    env: { ...process.env, PGPASSWORD: password, PGAPPNAME: "e2e-psql" },
  });
  let output = "";
  psql.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  psql.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => psql?.once("exit", resolve));
  // (psql's output to a pipe is flushed when it exits: read at the end)
  psql.stdin.write("select 40 + 2 as answer;\n");
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();

  // The person's session is live in /sessions, as a native one.
  await page.goto(`${own.url}/sessions`);
  const filters = page.getByRole("form", { name: "Filter sessions" });
  await filters.getByLabel("Connection").fill(CONNECTION);
  await filters.getByRole("button", { name: "Filter" }).click();
  const row = page.locator("table.data tbody tr").first();
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText("native", { timeout: 1_000 });
    await expect(row).toContainText(/live/i, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await snap(page, "native-connect-03-sessions");

  // Revoked on the account page: the psql session ends at once.
  await page.goto(`${own.url}/account`);
  const credentials = page.getByRole("table", { name: "Database credentials" });
  await expect(credentials).toContainText(CONNECTION);
  await expect(credentials).toContainText(password.slice(0, 10));
  await snap(page, "native-connect-04-account");
  await credentials
    .getByRole("button", { name: `Revoke ${password.slice(0, 10)}… for ${CONNECTION}` })
    .click();
  await expect(page.getByRole("status")).toContainText("Revoked");
  psql.stdin.write("select 1;\n");
  await exited;
  expect(output).toMatch(/answer\s*\n-+\n\s+42/);
  expect(output).toMatch(/credential was revoked/);

  // The password was shown once and never written to the console's log.
  expect(readFileSync(own.logFile, "utf8")).not.toContain(password);
});
