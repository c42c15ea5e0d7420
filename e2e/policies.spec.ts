// The admin's policy journey: try statements against the rules without running them, add a rule and see the
// next decision change, and set how a connection's results are masked.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

test("an admin tries statements, adds a rule, and sets masking for a connection", async ({ page }) => {
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.getByRole("link", { name: "Policies" }).click();
  await expect(page.getByRole("heading", { name: "Policies", level: 1 })).toBeVisible();

  const tryBox = page.getByRole("form", { name: "Try a statement" });
  await tryBox.getByLabel("Connection").selectOption("demo");
  await tryBox.getByLabel("Statement").fill("select 'drop table customers' as harmless");
  await tryBox.getByRole("button", { name: "Check" }).click();
  await expect(page.getByTestId("check-result")).toContainText("Decision: allow (class read)");

  await tryBox
    .getByLabel("Statement")
    .fill("with gone as (delete from orders returning *) select count(*) from gone");
  await tryBox.getByRole("button", { name: "Check" }).click();
  await expect(page.getByTestId("check-result")).toContainText("Decision: review");
  await expect(page.getByTestId("check-result")).toContainText("unbounded-write");
  await snap(page, "policies-01-try");

  const newRule = page.getByRole("form", { name: "New rule" });
  await newRule.getByLabel("Rule name").fill("Analysts may fix orders on demo");
  await newRule.getByLabel("Connection").selectOption("demo");
  // A review rule asks who approves; an allow rule does not.
  const approvers = newRule.getByRole("group", { name: /Who approves/ });
  await expect(approvers).toBeVisible();
  await expect(approvers.getByLabel("Approvals needed")).toHaveValue("");
  await newRule.getByLabel("Action").selectOption("allow");
  await expect(approvers).toHaveCount(0);
  await newRule.getByLabel("write", { exact: true }).check();
  await newRule.getByLabel("analysts", { exact: true }).check();
  await newRule.getByLabel("Tables (optional)").fill("orders");
  await newRule.getByLabel("Message shown to the caller").fill("Fixes to orders are fine");
  await newRule.getByRole("button", { name: "Add rule" }).click();
  await expect(page.getByRole("cell", { name: /Analysts may fix orders on demo/ })).toBeVisible();

  // The admin is not in "analysts": the rule does not apply to them, the default still holds the write.
  await tryBox.getByLabel("Statement").fill("update orders set status = 'paid' where id = 7");
  await tryBox.getByRole("button", { name: "Check" }).click();
  await expect(page.getByTestId("check-result")).toContainText("Decision: review");
  // An analyst's token gets the new rule on the next request, no restart.
  const admin = page.request;
  const created = await admin.post(`${base}/api/v1/service-accounts`, {
    data: { name: "policy-bot", groups: ["analysts"] },
  });
  const { token } = (await created.json()) as { token: string };
  const check = await admin.post(`${base}/api/v1/connections/demo/check`, {
    headers: { authorization: `Bearer ${token}` },
    data: { input: "update orders set status = 'paid' where id = 7" },
  });
  expect(((await check.json()) as { decision: string }).decision).toBe("allow");
  await snap(page, "policies-02-rules");

  // Masking: switch email detection off for demo; the API shows emails in clear, then reset.
  const masking = page.getByRole("form", { name: "Masking settings" });
  await page.getByLabel("Connection", { exact: true }).last().selectOption("demo");
  await expect(masking).toBeVisible();
  await masking.getByLabel("Email address", { exact: false }).first().uncheck();
  await masking.getByRole("button", { name: "Save masking" }).click();
  await expect(page.getByText("Saved. The next result")).toBeVisible();
  await snap(page, "policies-03-masking");
  const exec = await admin.post(`${base}/api/v1/connections/demo/exec`, {
    headers: { authorization: `Bearer ${token}` },
    data: { input: "select email from customers where id = 1" },
  });
  const body = (await exec.json()) as { rows: string[][]; masked: unknown[] };
  expect(body.masked).toEqual([]);
  expect(body.rows[0]?.[0]).toMatch(/^[a-z]+\.[a-z-]+0@example\.com$/);
  await page.getByRole("button", { name: "Reset to defaults" }).click();
  await expect(page.getByText("Back to the defaults.")).toBeVisible();
  const again = (await (
    await admin.post(`${base}/api/v1/connections/demo/exec`, {
      headers: { authorization: `Bearer ${token}` },
      data: { input: "select email from customers where id = 1" },
    })
  ).json()) as { rows: string[][]; masked: unknown[] };
  expect(again.masked.length).toBe(1);
});

test.afterAll(async ({ playwright }) => {
  // Leave the shared console as the other journeys expect it: no extra rules.
  const context = await playwright.request.newContext({ baseURL: e2eEnv.consoleUrl });
  const csrf = (await (await context.get("/api/auth/csrf")).json()) as { csrfToken: string };
  await context.post("/api/auth/callback/credentials", {
    form: { csrfToken: csrf.csrfToken, email: ADMIN.email, password: ADMIN.password, json: "true" },
  });
  const { rules } = (await (await context.get("/api/v1/policies/rules")).json()) as {
    rules: { id: string; name: string }[];
  };
  for (const rule of rules.filter((r) => r.name === "Analysts may fix orders on demo")) {
    await context.delete(`/api/v1/policies/rules/${rule.id}`);
  }
  await context.dispose();
});
