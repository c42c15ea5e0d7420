// The auditor's sessions journey: an admin runs statements on the demo connection, finds the session in
// /sessions by the text of a statement, and opens it to see the timeline of decisions and the masked preview.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

test("an admin finds a session by its statement text and sees decisions and masked results", async ({
  page,
}) => {
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  const marker = `sessions_e2e_${Date.now()}`;

  const first = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: `select id, full_name, email as ${marker} from customers order by id limit 3` },
  });
  expect(first.status()).toBe(200);
  const { sessionId } = (await first.json()) as { sessionId: string };
  const second = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select count(*) as n from orders", sessionId },
  });
  expect(second.status()).toBe(200);
  const blocked = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select pg_read_file('/etc/passwd')", sessionId },
  });
  expect(blocked.status()).toBe(403);

  await page.goto(`${base}/sessions`);
  await expect(page.getByRole("heading", { name: "Sessions", level: 1 })).toBeVisible();
  const filters = page.getByRole("form", { name: "Filter sessions" });
  await filters.getByLabel("Statement or command contains").fill(marker);
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(new RegExp(`q=${marker}`));
  const rows = page.locator("table.data tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("demo");
  await expect(rows.first()).toContainText("2 / 0 / 1");
  await snap(page, "sessions-01-list");

  await rows.first().getByRole("link", { name: ADMIN.email }).click();
  await expect(page).toHaveURL(new RegExp(`/sessions/${sessionId}$`));
  await expect(page.getByRole("heading", { name: "SQL session on demo", level: 1 })).toBeVisible();
  const statements = page.getByTestId("statement");
  await expect(statements).toHaveCount(3);
  await expect(statements.nth(0)).toContainText(marker);
  await expect(statements.nth(0).locator("td.masked").first()).toContainText("email");
  await expect(statements.nth(1).locator("table.preview")).toContainText("1000");
  await expect(statements.nth(2).locator(".tag").first()).toHaveText("deny");
  const preview = await statements.nth(0).locator("table.preview").textContent();
  expect(preview).not.toMatch(/[a-z]+\.[a-z-]+\d*@example\.com/);
  await expect(page.getByRole("link", { name: "Export JSON" })).toHaveAttribute(
    "href",
    `/api/v1/sessions/${sessionId}/export`,
  );
  await snap(page, "sessions-02-session");
});
