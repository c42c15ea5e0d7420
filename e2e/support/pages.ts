// Small steps shared by the journeys: signing in and saving screenshots to look at.
import { expect, type Page } from "@playwright/test";

export const SCREENSHOTS = "test-results/screenshots";

/**
 * A full-page screenshot for people to look at. Bounded: once (CI, a loaded machine) a full-page capture after a
 * 100,000-row grid had been scrolled never returned and took the journey's whole budget with it; then the
 * visible part is taken instead, which is what the journey's own assertions already checked.
 */
export async function snap(page: Page, name: string) {
  const path = `${SCREENSHOTS}/${name}.png`;
  try {
    await page.screenshot({ path, fullPage: true, timeout: 30_000 });
  } catch {
    await page.screenshot({ path, timeout: 30_000 });
  }
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string) {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/connections$/);
}

/** Replaces the SQL editor's text by typing, as a person would, and runs it with Ctrl+Enter. */
export async function typeAndRun(page: Page, sql: string) {
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(sql);
  await page.keyboard.press("Control+Enter");
}
