// First run on a fresh data directory with no ADMIN_EMAIL: the console sends the first visitor to a setup page
// that creates the first admin; afterwards the setup page is gone.
import { expect, test } from "@playwright/test";
import { type RunningConsole, startConsole } from "./support/console";
import { snap } from "./support/pages";

let fresh: RunningConsole;
test.beforeAll(async () => {
  fresh = await startConsole({ ADMIN_EMAIL: "", ADMIN_PASSWORD: "" });
});
test.afterAll(async () => {
  await fresh?.stop();
});

test("the first visitor creates the admin account on the setup page", async ({ page }) => {
  await page.goto(fresh.url);
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveCount(0);
  await page.getByLabel("Your name").fill("First Admin");
  await page.getByLabel("Email").fill("first@example.com");
  await page.getByLabel("Password", { exact: true }).fill("first-admin-pass");
  await page.getByLabel("Repeat the password").fill("first-admin-pass");
  await snap(page, "setup");
  await page.getByRole("button", { name: "Create the admin account" }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByRole("cell", { name: /demo/ }).first()).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("First Admin");

  await page.goto(`${fresh.url}/setup`);
  await expect(page).toHaveURL(/\/(signin|connections)$/);
  const again = await page.request.post(`${fresh.url}/api/setup`, {
    data: { email: "intruder@example.com", password: "intruder-pass-1" },
  });
  expect(again.status()).toBe(403);
});
