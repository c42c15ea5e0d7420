// Single sign-on through a real OpenID Connect provider (oidc-provider, started by global setup): the user
// signs in on the provider's form, lands in the console, and the groups claim became group memberships.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv, OIDC_USER } from "./support/env";
import { signIn, snap } from "./support/pages";

test("a person signs in with single sign-on and the groups claim becomes groups", async ({
  page,
  browser,
}) => {
  const base = e2eEnv.consoleUrl;
  await page.goto(`${base}/signin`);
  await snap(page, "signin");
  await page.getByRole("button", { name: "Sign in with Test SSO" }).click();
  await page.getByLabel("Email or username").fill(OIDC_USER.email);
  await page.getByLabel("Password").fill(OIDC_USER.password);
  await snap(page, "sso-provider-login");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/connections$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).toContainText(OIDC_USER.name);
  for (const group of OIDC_USER.groups) await expect(nav.getByText(group, { exact: true })).toBeVisible();
  await snap(page, "sso-member-connections");
  const me = (await (await page.request.get(`${base}/api/v1/me`)).json()) as {
    user: { groups: string[]; role: string };
  };
  expect(me.user.groups.sort()).toEqual([...OIDC_USER.groups].sort());
  expect(me.user.role).toBe("member");

  // The admin sees the SSO user and the mapped memberships.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, base, ADMIN.email, ADMIN.password);
  await admin.goto(`${base}/groups`);
  const row = admin.getByRole("row", { name: /oidc-analysts/ });
  await expect(row).toContainText(`${OIDC_USER.email} (SSO)`);
  await admin.goto(`${base}/users`);
  await expect(admin.getByRole("row", { name: new RegExp(OIDC_USER.email) })).toContainText("single sign-on");
  await snap(admin, "sso-admin-users");

  // Disabling the account ends the session at once.
  const users = (await (await admin.request.get(`${base}/api/v1/users`)).json()) as {
    users: { id: string; email: string }[];
  };
  const id = users.users.find((u) => u.email === OIDC_USER.email)?.id;
  expect(
    (await admin.request.patch(`${base}/api/v1/users/${id}`, { data: { disabled: true } })).status(),
  ).toBe(200);
  expect((await page.request.get(`${base}/api/v1/me`)).status()).toBe(401);
  await admin.request.patch(`${base}/api/v1/users/${id}`, { data: { disabled: false } });
  await adminContext.close();
});
