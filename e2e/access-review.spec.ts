// Access review: an analyst uses "demo"; the admin sees it in the access matrix and starts a review of "demo"
// with a reviewer group; the reviewer revokes the analyst's access with a comment (after reading what the
// revoke does); the analyst's next query gets a 403 naming the review, the reviewer and the comment; the
// admin closes the review and its evidence report lists the decision.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const ANALYST = { email: "review.analyst@example.com", password: "review-analyst-pass-1" };
const REVIEWER = { email: "review.lead@example.com", password: "review-lead-pass-1" };
const CAMPAIGN = "Q4 demo access review";
const COMMENT = "moved to the platform team";

test("a reviewer revokes an analyst's access in a campaign, and the analyst's next query is refused", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  const adminContext = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  const admin = await adminContext.newPage();
  await signIn(admin, base, ADMIN.email, ADMIN.password);
  const group = await admin.request.post(`${base}/api/v1/groups`, { data: { name: "access-reviewers" } });
  expect(group.status(), await group.text()).toBe(201);
  for (const [user, groups] of [
    [ANALYST, ["analysts"]],
    [REVIEWER, ["access-reviewers"]],
  ] as const) {
    const created = await admin.request.post(`${base}/api/v1/users`, {
      data: { email: user.email, password: user.password, groups },
    });
    expect(created.status(), await created.text()).toBe(201);
  }

  const analystContext = await browser.newContext();
  const analyst = await analystContext.newPage();
  await signIn(analyst, base, ANALYST.email, ANALYST.password);
  const exec = () =>
    analyst.request.post(`${base}/api/v1/connections/demo/exec`, {
      data: { input: "select email from customers limit 3" },
    });
  const used = await exec();
  expect(used.status(), await used.text()).toBe(200);

  // The matrix shows the analyst's use of demo and the sensitive type the result touched.
  await admin.goto(`${base}/access/matrix?connection=demo&principal=review.analyst`);
  const row = admin.getByRole("table", { name: "Access matrix" }).getByRole("row").filter({
    hasText: ANALYST.email,
  });
  await expect(row).toContainText("group analysts");
  await expect(row).toContainText("1 / 1");
  await expect(row).toContainText("email");
  await admin.goto(`${base}/access/matrix`);
  await expect(admin.getByRole("table", { name: "Access matrix" })).toBeVisible();
  await expect(admin.getByRole("link", { name: "Access reviews" })).toHaveAttribute("aria-current", "page");
  await expect(admin.getByRole("link", { name: "Access requests" })).not.toHaveAttribute(
    "aria-current",
    "page",
  );
  await snap(admin, "access-review-01-matrix");
  // The auditor's question: who read an email on demo.
  await admin.goto(`${base}/access/questions?question=touched&field=email&connection=demo&since=2026-01-01`);
  await expect(admin.getByLabel("Connection", { exact: true })).toHaveValue("demo");
  await expect(admin.getByText(ANALYST.email).first()).toBeVisible();
  await snap(admin, "access-review-01b-questions");
  const csv = await admin.request.get(`${base}/api/v1/access?connection=demo&format=csv`);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  expect(await csv.text()).toContain(`${ANALYST.email},person,demo,group analysts,`);

  // The connection page names who owns (reviews) it; the review below picks its reviewer group explicitly.
  await admin.goto(`${base}/connections/demo`);
  const owners = admin.getByRole("form", { name: "Access review owners" });
  await owners.getByLabel("Owners (review access to it)").selectOption("access-reviewers");
  await owners.getByRole("button", { name: "Save owners" }).click();
  await expect(owners).toContainText("Members of access-reviewers review access to demo.");
  await admin.reload();
  await expect(admin.getByLabel("Owners (review access to it)")).toHaveValue("access-reviewers");
  await snap(admin, "access-review-00-connection-owners");

  // The admin starts a review of demo for the reviewer group.
  await admin.goto(`${base}/access/campaigns`);
  const form = admin.getByRole("form", { name: "Start a review" });
  await form.getByLabel("Name").fill(CAMPAIGN);
  await form.getByLabel("Reviewer group").selectOption("access-reviewers");
  await form.getByRole("checkbox", { name: "demo", exact: true }).check();
  await form.getByRole("button", { name: "Start review" }).click();
  await expect(admin).toHaveURL(/\/access\/campaigns\/[0-9a-f-]{36}$/);
  await expect(admin.getByRole("heading", { name: CAMPAIGN, level: 1 })).toBeVisible();
  await expect(admin.getByRole("table", { name: "Progress by reviewer" })).toContainText(
    "group access-reviewers",
  );
  await snap(admin, "access-review-02-campaign-started");
  const campaignUrl = admin.url();

  // The reviewer revokes the analyst's access, after reading what it does.
  const reviewerContext = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  const reviewer = await reviewerContext.newPage();
  await signIn(reviewer, base, REVIEWER.email, REVIEWER.password);
  await reviewer.goto(`${base}/access/campaigns`);
  await expect(reviewer.getByRole("table", { name: "Access reviews" })).toContainText("1 to decide");
  await snap(reviewer, "access-review-03a-reviewer-list");
  await reviewer.getByRole("link", { name: CAMPAIGN }).click();
  const item = reviewer.getByRole("table", { name: "Review items" }).getByRole("row").filter({
    hasText: ANALYST.email,
  });
  await expect(item).toContainText("group analysts");
  await item.getByLabel(`Comment on ${ANALYST.email}`).fill(COMMENT);
  await item.getByRole("button", { name: "Revoke" }).click();
  await expect(item.getByRole("alert")).toContainText("can no longer use demo through group analysts");
  await snap(reviewer, "access-review-03-reviewer-confirms");
  await item.getByRole("button", { name: "Confirm revoke" }).click();
  await expect(item).toContainText(`revoke by ${REVIEWER.email}`);
  await snap(reviewer, "access-review-04-reviewer-revoked");

  // The analyst's next query is refused, naming why.
  const refused = await exec();
  expect(refused.status()).toBe(403);
  const { error } = (await refused.json()) as { error: { message: string } };
  expect(error.message).toMatch(
    new RegExp(
      `^access to demo was revoked in access review '${CAMPAIGN}' on \\d{4}-\\d{2}-\\d{2} by ${REVIEWER.email.replaceAll(".", "\\.")}: ${COMMENT}$`,
    ),
  );

  // The admin closes the review; the report lists the decision.
  await admin.goto(campaignUrl);
  await admin.getByRole("button", { name: "Close review" }).click();
  await admin.getByRole("link", { name: "Evidence report" }).click();
  const reported = admin.getByRole("table", { name: "Report" }).getByRole("row").filter({
    hasText: ANALYST.email,
  });
  await expect(reported).toContainText("revoke");
  await expect(reported).toContainText(REVIEWER.email);
  await expect(reported).toContainText(COMMENT);
  await snap(admin, "access-review-05-report");
  const json = await admin.request.get(
    `${campaignUrl.replace("/access/campaigns/", "/api/v1/access-reviews/")}/report`,
  );
  const report = (await json.json()) as { items: { principal: string; decision: string; comment: string }[] };
  expect(report.items.find((i) => i.principal === ANALYST.email)).toMatchObject({
    decision: "revoke",
    comment: COMMENT,
  });

  // The admin gives the access back from the reviews page; the analyst's queries run again.
  await admin.goto(`${base}/access/campaigns`);
  const revoked = admin.getByRole("table", { name: "Revoked access" }).getByRole("row").filter({
    hasText: ANALYST.email,
  });
  await expect(revoked).toContainText(CAMPAIGN);
  await expect(revoked).toContainText(COMMENT);
  await snap(admin, "access-review-06-revoked-list");
  admin.once("dialog", (dialog) => void dialog.accept());
  await revoked.getByRole("button", { name: "Give access back" }).click();
  await expect(admin.getByText(`Access of ${ANALYST.email} to demo given back.`)).toBeVisible();
  await expect(revoked).toHaveCount(0);
  expect((await exec()).status()).toBe(200);
  await reviewerContext.close();
  await analystContext.close();
  await adminContext.close();
});
