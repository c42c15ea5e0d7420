// SAML sign-in through a real identity provider (test/harness/saml-idp.ts, its own process, started by global
// setup): the person picks SAML on the sign-in page, signs in on the provider's form, the signed answer is
// posted back, and they land in the console with the groups the provider named. Answers the console must not
// trust are refused with the reason on the sign-in page.
import { expect, test } from "@playwright/test";
import { e2eEnv, SAML_USER } from "./support/env";
import { snap } from "./support/pages";

test("a person signs in through SAML and lands in the console with their groups", async ({ page }) => {
  const base = e2eEnv.consoleUrl;
  await page.goto(`${base}/signin`);
  const samlButton = page.getByRole("link", { name: "Sign in with Test SAML" });
  await expect(samlButton).toBeVisible();
  await snap(page, "saml-signin");
  await samlButton.click();
  await expect(page).toHaveURL(new RegExp(`^${e2eEnv.samlIdpUrl}/sso`));
  await page.getByLabel("Email").fill(SAML_USER.email);
  await page.getByLabel("Password").fill(SAML_USER.password);
  await snap(page, "saml-idp-login");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page).toHaveURL(/\/connections$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).toContainText(SAML_USER.name);
  for (const group of SAML_USER.groups) await expect(nav.getByText(group, { exact: true })).toBeVisible();
  await snap(page, "saml-member-connections");
  const me = (await (await page.request.get(`${base}/api/v1/me`)).json()) as {
    user: { groups: string[]; role: string; email: string };
  };
  expect(me.user.email).toBe(SAML_USER.email);
  expect(me.user.groups.sort()).toEqual([...SAML_USER.groups].sort());
  expect(me.user.role).toBe("member");
});

test("answers the console cannot trust are refused with the reason on the sign-in page", async ({ page }) => {
  const cases = [
    ["tampered", /signature did not verify/],
    ["expired", /has expired/],
    ["wrong-audience", /issued for another service/],
  ] as const;
  for (const [variant, message] of cases) {
    // IdP-initiated: the provider's page posts the answer straight to the assertion consumer service.
    const query = new URLSearchParams({ variant, email: SAML_USER.email });
    await page.goto(`${e2eEnv.samlIdpUrl}/idp-initiated?${query}`);
    await expect(page).toHaveURL(/\/signin\?/);
    await expect(page.getByRole("alert").filter({ hasText: message })).toBeVisible();
    await snap(page, `saml-refused-${variant}`);
  }
  expect((await page.request.get(`${e2eEnv.consoleUrl}/api/v1/me`)).status()).toBe(401);
});

test("the same signed answer posted twice signs in once, then is refused as a replay", async ({
  browser,
}) => {
  const query = new URLSearchParams({ variant: "good", email: SAML_USER.email });
  const idpPage = await fetch(`${e2eEnv.samlIdpUrl}/idp-initiated?${query}`);
  const html = await idpPage.text();
  // The same page, opened twice: two browsers post the very same assertion.
  for (const [attempt, expected] of [
    [1, /\/connections$/],
    [2, /\/signin\?/],
  ] as const) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.route(`${e2eEnv.samlIdpUrl}/replayed`, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: html }),
    );
    await page.goto(`${e2eEnv.samlIdpUrl}/replayed`);
    await expect(page).toHaveURL(expected);
    if (attempt === 2) {
      await expect(page.getByRole("alert").filter({ hasText: /already used/ })).toBeVisible();
      await snap(page, "saml-refused-replay");
    }
    await context.close();
  }
});
