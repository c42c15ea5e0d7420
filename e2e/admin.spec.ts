// The admin journey: sign in, create a group, a user and a connection to a real PostgreSQL, test it, and
// check that its password appears in no page, API response or server log.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

test("an admin adds a group, a user and a PostgreSQL connection; the password never comes back", async ({
  page,
}) => {
  const base = e2eEnv.consoleUrl;
  const target = e2eEnv.targetPg;
  const seen: string[] = [];
  page.on("response", async (response) => {
    if (!response.url().startsWith(base)) return;
    const type = response.headers()["content-type"] ?? "";
    if (/json|html|text|javascript|x-component/.test(type)) seen.push(await response.text().catch(() => ""));
  });

  await signIn(page, base, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("cell", { name: /demo/ }).first()).toBeVisible();
  await snap(page, "admin-01-connections");

  // A group
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByLabel("Name", { exact: true }).fill("data-team");
  await page.getByLabel("Description", { exact: true }).fill("Analysts of the data team");
  await page.getByRole("button", { name: "Create group" }).click();
  await expect(page.getByRole("cell", { name: /data-team/ })).toBeVisible();
  await snap(page, "admin-02-groups");

  // A user in that group
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Email", { exact: true }).fill("dana@example.com");
  await page.getByLabel("Name", { exact: true }).fill("Dana Analyst");
  await page.getByLabel("Initial password").fill("dana-password-1");
  await page.getByRole("group", { name: "Groups" }).getByLabel("data-team").check();
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("status")).toContainText("Created dana@example.com");
  await expect(page.getByRole("cell", { name: /Dana Analyst/ })).toBeVisible();
  await snap(page, "admin-03-users");

  // A connection to the real PostgreSQL, usable by data-team
  await page.getByRole("link", { name: "Connections" }).click();
  await page.getByRole("link", { name: "New connection" }).click();
  await page.getByLabel("Name", { exact: true }).fill("warehouse");
  await page.getByLabel("Host", { exact: true }).fill(target.host);
  await page.getByLabel("Port", { exact: true }).fill(String(target.port));
  await page.getByLabel("Database", { exact: true }).fill(target.database);
  await page.getByLabel("Username", { exact: true }).fill(target.user);
  await page.getByLabel("Password", { exact: true }).fill(target.password);
  await page.getByLabel("data-team", { exact: true }).check();
  await snap(page, "admin-04-new-connection");
  await page.getByRole("button", { name: "Create connection" }).click();
  await expect(page).toHaveURL(/\/connections\/warehouse\?created=1$/);
  await expect(page.getByPlaceholder("•••••• (set)")).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("test-result")).toContainText(`Connected to PostgreSQL`);
  await snap(page, "admin-05-connection-tested");

  // A wrong password is explained in words, and nothing echoes either password.
  await page.getByLabel("Password", { exact: true }).fill("not-the-password-42");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("test-result")).toContainText("refused the credentials");
  await snap(page, "admin-06-connection-auth-failed");
  await page.getByLabel("Password", { exact: true }).fill(target.password);
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();

  // Every page and API response an admin can reach, fetched again and scanned.
  for (const path of [
    "/connections",
    "/connections/warehouse",
    "/users",
    "/groups",
    "/service-accounts",
    "/audit",
  ]) {
    await page.goto(`${base}${path}`);
    await expect(page.locator("main"), path).toBeVisible();
    seen.push(await page.content());
  }
  await snap(page, "admin-07-audit");
  for (const path of [
    "/api/v1/connections",
    "/api/v1/connections/warehouse",
    "/api/v1/audit",
    "/api/v1/users",
  ]) {
    const response = await page.request.get(`${base}${path}`);
    expect(response.status()).toBe(200);
    seen.push(await response.text());
  }
  const everything = seen.join("\n");
  expect(everything).toContain("warehouse");
  expect(everything).not.toContain(target.password);
  expect(everything).not.toContain("not-the-password-42");
  const log = readFileSync(e2eEnv.consoleLog, "utf8");
  expect(log).not.toContain(target.password);
  expect(log).not.toContain("not-the-password-42");

  // The new member signs in and sees only the connection their group may use.
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/signin/);
  await signIn(page, base, "dana@example.com", "dana-password-1");
  await expect(page.getByRole("cell", { name: /warehouse/ })).toBeVisible();
  await expect(page.getByRole("cell", { name: /^demo/ })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await snap(page, "member-01-connections");
  const forbidden = await page.request.get(`${base}/api/v1/users`);
  expect(forbidden.status()).toBe(403);
  await page.goto(`${base}/users`);
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
});

test("a wrong password is refused with a message and no session", async ({ page }) => {
  const base = e2eEnv.consoleUrl;
  await page.goto(`${base}/signin`);
  await page.getByLabel("Email", { exact: true }).fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill("wrong-password-123");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator(".alert.error")).toContainText("email or password is wrong");
  await snap(page, "signin-failed");
  const me = await page.request.get(`${base}/api/v1/me`);
  expect(me.status()).toBe(401);
});
