// An admin hands an identity provider its SCIM token from the console: the SCIM tokens page (Admin navigation)
// mints one, shown once with the base URL; the provider's call with it works; the list shows it by prefix and
// last use; revoking it (confirmed) stops the provider's next call.
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const NAME = "okta-console";

test("an admin mints a SCIM token from the console, the provider uses it, and revoking it stops it", async ({
  page,
  playwright,
}) => {
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "SCIM tokens" }).click();
  await expect(page.getByRole("heading", { name: "SCIM tokens" })).toBeVisible();

  const form = page.getByRole("form", { name: "New SCIM token" });
  await form.getByLabel("Name").fill(NAME);
  await form.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByRole("status", { name: "New SCIM token" });
  await expect(shown).toContainText("shown once");
  const token = (await shown.getByTestId("scim-token").textContent()) ?? "";
  expect(token).toMatch(/^pst_/);
  await expect(shown.getByTestId("scim-base-url")).toHaveText(/\/scim\/v2$/);
  await expect(page.getByRole("table", { name: "SCIM tokens" })).toContainText(NAME);
  await snap(page, "scim-tokens-01-created");

  // The identity provider's client, with the token as its bearer.
  const idp = await playwright.request.newContext({
    baseURL: base,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  expect((await idp.get("/scim/v2/Users?count=1")).status()).toBe(200);

  // Once Done, the token is not on the page any more; the list names it by its prefix.
  await shown.getByRole("button", { name: "Done" }).click();
  await expect(page.getByText(token)).toHaveCount(0);
  const row = page.getByRole("table", { name: "SCIM tokens" }).getByRole("row", { name: new RegExp(NAME) });
  await expect(row).toContainText("active");
  await expect(row).toContainText(`by ${ADMIN.email}`);
  const prefix = ((await row.locator("td.mono").textContent()) ?? "").replace("…", "");
  expect(token.startsWith(prefix)).toBe(true);
  expect(prefix.length).toBeLessThan(token.length);
  await expect(async () => {
    await page.reload();
    await expect(row).not.toContainText("never", { timeout: 1_000 }); // its use is noted
  }).toPass({ timeout: 20_000 });
  await snap(page, "scim-tokens-02-listed");

  // Revoked, confirmed: the provider's next call is refused.
  page.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `Revoke ${NAME}` }).click();
  await expect(row).toContainText("revoked");
  await expect(page.getByRole("status")).toContainText(`Revoked ${NAME}`);
  expect((await idp.get("/scim/v2/Users?count=1")).status()).toBe(401);
  await snap(page, "scim-tokens-03-revoked");
  await idp.dispose();
});
