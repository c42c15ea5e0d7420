// Just-in-time approval with two people at once: an analyst's DELETE is held; the approver's inbox shows it
// without a reload; on approval it runs once and the analyst's editor shows the result; the row is gone on the
// target. Also: the analyst cannot approve their own request, and a denial runs nothing.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap, typeAndRun } from "./support/pages";

const ANALYST = { email: "held.analyst@example.com", password: "held-analyst-pass-1" };

test("an approver approves a held DELETE live; the analyst sees the result; a denial runs nothing", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  const approverContext = await browser.newContext();
  const approver = await approverContext.newPage();
  await signIn(approver, base, ADMIN.email, ADMIN.password);
  const created = await approver.request.post(`${base}/api/v1/users`, {
    data: { email: ANALYST.email, password: ANALYST.password, groups: ["analysts"] },
  });
  expect(created.status(), await created.text()).toBe(201);
  await approver.goto(`${base}/inbox`);
  await expect(approver.getByRole("heading", { name: "Inbox", level: 1 })).toBeVisible();
  const badge = approver.getByTestId("inbox-badge");
  const badgeBefore = (await badge.count()) > 0 ? Number(await badge.textContent()) : 0;

  const analystContext = await browser.newContext();
  const analyst = await analystContext.newPage();
  await signIn(analyst, base, ANALYST.email, ANALYST.password);
  await analyst.goto(`${base}/editor?connection=demo`);
  await expect(analyst.locator(".monaco-editor")).toBeVisible();
  const before = await analyst.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select count(*) as n from orders where id = 3" },
  });
  expect(((await before.json()) as { rows: string[][] }).rows[0]?.[0]).toBe("1");

  await typeAndRun(analyst, "delete from orders where id = 3");
  await expect(analyst.getByText("Waiting for approval")).toBeVisible();
  await expect(analyst.getByTestId("review-state")).toContainText("Pending");

  // The approver's inbox updates by itself (no reload), with the badge.
  const card = approver
    .getByRole("article", { name: /held\.analyst@example\.com on demo/ })
    .filter({ hasText: "id = 3" });
  await expect(card).toBeVisible();
  await expect(card).toContainText("delete from orders where id = 3");
  await expect(approver.getByTestId("inbox-badge")).toHaveText(String(badgeBefore + 1));
  await snap(approver, "approver-01-inbox");

  // The analyst cannot approve their own request.
  const { reviews } = (await (await analyst.request.get(`${base}/api/v1/reviews?scope=mine`)).json()) as {
    reviews: { id: string }[];
  };
  const reviewId = reviews[0]?.id ?? "";
  expect(reviewId).not.toBe("");
  const self = await analyst.request.post(`${base}/api/v1/reviews/${reviewId}/approve`, { data: {} });
  expect(self.status()).toBe(403);
  expect(((await self.json()) as { error: { message: string } }).error.message).toContain("your own request");

  await card.getByLabel("Comment").fill("ticket 123, one row");
  await card.getByRole("button", { name: "Approve" }).click();
  await expect(analyst.getByTestId("review-state")).toContainText("Approved by admin@example.com");
  await expect(analyst.getByTestId("review-state")).toContainText("DELETE");
  await snap(analyst, "approver-02-analyst-result");
  const after = await analyst.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select count(*) as n from orders where id = 3" },
  });
  expect(((await after.json()) as { rows: string[][] }).rows[0]?.[0]).toBe("0");
  // Approved work runs once: approving again is refused.
  const again = await approver.request.post(`${base}/api/v1/reviews/${reviewId}/approve`, { data: {} });
  expect(again.status()).toBe(409);

  // A denial: nothing runs, the analyst is told.
  await typeAndRun(analyst, "delete from orders where id = 4");
  await expect(analyst.getByText("Waiting for approval")).toBeVisible();
  const second = approver
    .getByRole("article", { name: /held\.analyst@example\.com on demo/ })
    .filter({ hasText: "id = 4" });
  await expect(second).toContainText("id = 4");
  // Decided with the keyboard: j moves to the newest request, c to its comment, Esc back, d to Deny, Enter.
  await approver.locator("body").click({ position: { x: 5, y: 5 } });
  await approver.keyboard.press("j");
  await expect(approver.getByRole("article").first()).toBeFocused();
  await second.focus();
  await approver.keyboard.press("c");
  await expect(second.getByLabel("Comment")).toBeFocused();
  await approver.keyboard.type("not today");
  await approver.keyboard.press("Escape");
  await expect(second).toBeFocused();
  await approver.keyboard.press("d");
  await expect(second.getByRole("button", { name: "Deny" })).toBeFocused();
  await snap(approver, "approver-02b-keyboard");
  await approver.keyboard.press("Enter");
  await expect(analyst.getByTestId("review-state")).toContainText("Denied by admin@example.com: “not today”");
  const kept = await analyst.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select count(*) as n from orders where id = 4" },
  });
  expect(((await kept.json()) as { rows: string[][] }).rows[0]?.[0]).toBe("1");
  await approver.goto(`${base}/inbox?tab=history`);
  await expect(approver.getByRole("article").first()).toBeVisible();
  // The history filters: only the denied DELETE of this analyst.
  const filters = approver.getByRole("form", { name: "Filter reviews" });
  await filters.getByLabel("State", { exact: true }).selectOption("denied");
  await filters.getByLabel("Requester").fill("held.analyst");
  await filters.getByLabel("Statement contains").fill("orders where id");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(approver).toHaveURL(/state=denied/);
  const shown = approver.getByRole("article");
  await expect(shown).toHaveCount(1);
  await expect(shown).toContainText("delete from orders where id = 4");
  await expect(shown.locator("[data-language=sql] .sql-keyword").first()).toHaveText("delete");
  await snap(approver, "approver-03-history");
  await filters.getByLabel("State", { exact: true }).selectOption("expired");
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(approver.getByText("No review matches")).toBeVisible();
  await analystContext.close();
  await approverContext.close();
});
