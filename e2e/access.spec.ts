// Just-in-time access: a member in no group asks for 30 minutes on "demo" in /access, an admin approves it
// there, the member can then list and query "demo"; the admin revokes it and the next statement answers 404.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const MEMBER = { email: "jit.member@example.com", password: "jit-member-pass-1" };

test("a member gets time-boxed access to demo on approval, and loses it on revoke", async ({ browser }) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, base, ADMIN.email, ADMIN.password);
  const created = await admin.request.post(`${base}/api/v1/users`, {
    data: { email: MEMBER.email, password: MEMBER.password, groups: [] },
  });
  expect(created.status(), await created.text()).toBe(201);

  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await signIn(member, base, MEMBER.email, MEMBER.password);
  const exec = () =>
    member.request.post(`${base}/api/v1/connections/demo/exec`, {
      data: { input: "select count(*) as n from customers" },
    });
  expect((await exec()).status()).toBe(404);

  await member.goto(`${base}/access`);
  await expect(member.getByRole("heading", { name: "Access", level: 1 })).toBeVisible();
  await expect(member.getByText("No grants yet")).toBeVisible();
  const form = member.getByRole("form", { name: "Request access" });
  await form.getByLabel("Connection").selectOption("demo");
  await form.getByLabel("For").selectOption("30");
  await form.getByLabel("Reason").fill("INC-42 customer lookup");
  await form.getByRole("button", { name: "Request access" }).click();
  const mine = member.getByRole("table", { name: "My grants" });
  await expect(mine.getByRole("row").filter({ hasText: "demo" })).toContainText("pending");
  await snap(member, "access-01-member-requested");

  // Nobody approves their own request.
  const { grants } = (await (await member.request.get(`${base}/api/v1/access/grants`)).json()) as {
    grants: { id: string; state: string }[];
  };
  const grantId = grants[0]?.id ?? "";
  expect(grantId).not.toBe("");
  const self = await member.request.post(`${base}/api/v1/access/grants/${grantId}/approve`, { data: {} });
  expect(self.status()).toBe(403);

  await admin.goto(`${base}/access`);
  const pending = admin.getByRole("table", { name: "Pending requests" }).getByRole("row").filter({
    hasText: MEMBER.email,
  });
  await expect(pending).toContainText("INC-42 customer lookup");
  await expect(pending).toContainText("30 min");
  await snap(admin, "access-02-admin-pending");
  await pending.getByRole("button", { name: "Approve" }).click();
  const active = admin.getByRole("table", { name: "Active grants" }).getByRole("row").filter({
    hasText: MEMBER.email,
  });
  await expect(active).toContainText(/(29|30) min left/);
  await snap(admin, "access-03-admin-active");

  const listed = (await (await member.request.get(`${base}/api/v1/connections`)).json()) as {
    connections: { name: string }[];
  };
  expect(listed.connections.map((c) => c.name)).toContain("demo");
  const allowed = await exec();
  expect(allowed.status(), await allowed.text()).toBe(200);
  expect(((await allowed.json()) as { rows: string[][] }).rows.length).toBe(1);
  await member.goto(`${base}/access`);
  await expect(mine.getByRole("row").filter({ hasText: "demo" })).toContainText(/active.*(29|30) min left/);
  await snap(member, "access-04-member-active");

  await active.getByRole("button", { name: "Revoke" }).click();
  await expect(admin.getByText("No active grants")).toBeVisible();
  await snap(admin, "access-05-admin-revoked");
  expect((await exec()).status()).toBe(404);
  await memberContext.close();
  await adminContext.close();
});
