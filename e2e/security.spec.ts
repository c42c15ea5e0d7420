// The console's own surface in a real browser: a page on another origin (served here from a tiny local server)
// posts to the console with the person's cookie and is refused; every page and reply carries the security
// headers and the editor and terminal work under the Content-Security-Policy; "Sign out everywhere" ends the
// other tabs' and devices' sessions, which are sent to sign in when used; an admin ends a person's sessions;
// guessed passwords meet a growing wait with a message on the sign-in page; a 300 MB body without
// Content-Length is refused early.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { sendChunked } from "../test/harness/chunked-body";
import { adminRequest } from "./support/admin-api";
import { type RunningConsole, startConsole } from "./support/console";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const PERSON = { email: "sec-person@example.com", password: "sec-person-pass-1" };

let evil: Server;
let evilUrl: string;

/** The attacker's pages: the same site as the console (localhost) but another origin (another port). */
function evilPage(consoleUrl: string): string {
  return `<!doctype html><title>Win a prize</title>
<h1>Win a prize</h1>
<form id="f" method="POST" action="${consoleUrl}/api/v1/me/sign-out-everywhere"></form>
<button id="go" onclick="document.getElementById('f').submit()">Claim</button>
<button id="fetch" onclick="fetch('${consoleUrl}/api/v1/me/sign-out-everywhere', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' }).then(() => { document.title = 'sent'; }, () => { document.title = 'sent'; })">Claim quietly</button>
<iframe id="frame" src="${consoleUrl}/connections" width="600" height="300"></iframe>`;
}

test.beforeAll(async () => {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  const created = await admin.post("/api/v1/users", { data: { ...PERSON, role: "member" } });
  expect([201, 409]).toContain(created.status());
  evil = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end(evilPage(e2eEnv.consoleUrl));
  });
  await new Promise<void>((resolve) => evil.listen(0, "localhost", resolve));
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => evil?.close(resolve));
});

async function signedIn(browser: Browser, who = PERSON): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, e2eEnv.consoleUrl, who.email, who.password);
  return page;
}

test("every page and reply carries the security headers", async ({ page }) => {
  for (const path of ["/signin", "/api/health", "/api/v1/me"]) {
    const response = await page.request.get(`${e2eEnv.consoleUrl}${path}`);
    const csp = response.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("frame-ancestors 'none'");
    expect(csp, path).toContain("default-src 'self'");
    expect(response.headers()["x-content-type-options"], path).toBe("nosniff");
    expect(response.headers()["referrer-policy"], path).toBe("same-origin");
  }
  const csrf = await page.request.get(`${e2eEnv.consoleUrl}/api/auth/csrf`);
  // Plain http here: the cookie is not Secure (it is when PUBLIC_URL is https).
  expect(csrf.headers()["set-cookie"] ?? "").not.toMatch(/;\s*secure/i);
});

test("a page on another origin cannot act with the person's cookie, nor frame the console", async ({
  browser,
}) => {
  const page = await signedIn(browser);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|frame-ancestors/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(evilUrl);
  // The console refuses to be framed by the attacker's page.
  await expect.poll(() => violations.join("\n")).toContain("frame-ancestors");

  // A quiet cross-origin fetch (no CORS needed for a "simple" request): the cookie rides along, the console refuses.
  const quiet = page.waitForResponse((r) => r.url().endsWith("/api/v1/me/sign-out-everywhere"));
  await page.locator("#fetch").click();
  expect((await quiet).status()).toBe(403);

  // A form posted cross-site: the browser shows the console's refusal.
  const posted = page.waitForResponse((r) => r.url().endsWith("/api/v1/me/sign-out-everywhere"));
  await page.locator("#go").click();
  const reply = await posted;
  expect(reply.status()).toBe(403);
  expect(await reply.json()).toMatchObject({ error: { code: "cross_site" } });
  await snap(page, "security-cross-site-refused");

  // Still signed in: nothing happened.
  await page.goto(`${e2eEnv.consoleUrl}/connections`);
  await expect(page).toHaveURL(/\/connections$/);
  await page.context().close();
});

test("a console opened at another address than PUBLIC_URL refuses to sign in, and says why", async ({
  page,
}) => {
  const elsewhere = e2eEnv.consoleUrl.replace("//localhost:", "//127.0.0.1:");
  expect(elsewhere).not.toBe(e2eEnv.consoleUrl);
  await page.goto(`${elsewhere}/signin`);
  await page.getByLabel("Email", { exact: true }).fill(PERSON.email);
  await page.getByLabel("Password", { exact: true }).fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator(".alert.error")).toContainText("Open it at its own address");
  await snap(page, "security-signin-other-address");
});

test("the editor and the terminal page run under the Content-Security-Policy", async ({ browser }) => {
  const page = await signedIn(browser, ADMIN);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(`${e2eEnv.consoleUrl}/editor`);
  await expect(page.locator(".monaco-editor .view-lines")).toBeVisible();
  await page.locator(".monaco-editor .view-lines").click();
  await page.keyboard.type("select 1");
  await page.goto(`${e2eEnv.consoleUrl}/terminal`);
  await page.waitForLoadState("networkidle");
  expect(violations).toEqual([]);
  await page.context().close();
});

test("Sign out everywhere ends the other tabs and devices; a signed-out tab is sent to sign in", async ({
  browser,
}) => {
  const laptop = await signedIn(browser);
  const otherTab = await laptop.context().newPage();
  await otherTab.goto(`${e2eEnv.consoleUrl}/sessions`);
  await expect(otherTab).toHaveURL(/\/sessions$/);
  const phone = await signedIn(browser);

  laptop.once("dialog", (dialog) => void dialog.accept());
  await laptop.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(laptop).toHaveURL(/\/signin/);

  // The other tab is used: it is sent to sign in.
  await otherTab.getByRole("link", { name: "Connections" }).click();
  await expect(otherTab).toHaveURL(/\/signin/);
  // The other device (its own cookie) too, on its next request.
  await phone.reload();
  await expect(phone).toHaveURL(/\/signin/);
  expect((await phone.request.get(`${e2eEnv.consoleUrl}/api/v1/me`)).status()).toBe(401);
  await snap(phone, "security-signed-out-everywhere");
  await laptop.context().close();
  await phone.context().close();
});

test("an admin ends a person's sessions from the Users page", async ({ browser }) => {
  const person = await signedIn(browser);
  const admin = await signedIn(browser, ADMIN);
  await admin.goto(`${e2eEnv.consoleUrl}/users`);
  const row = admin.getByRole("row").filter({ hasText: PERSON.email });
  await row.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(admin.getByRole("status")).toContainText(`Every session of ${PERSON.email} has ended`);
  await snap(admin, "security-admin-ended-sessions");
  await person.reload();
  await expect(person).toHaveURL(/\/signin/);
  await person.context().close();
  await admin.context().close();
});

test("a 300 MB body without Content-Length is refused early, on every kind of route", async () => {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  const created = await admin.post("/api/v1/service-accounts", { data: { name: "sec-big-body" } });
  const { id, token } = (await created.json()) as { id: string; token: string };
  const raised = await admin.patch(`/api/v1/service-accounts/${id}`, { data: { role: "admin" } });
  expect(raised.status()).toBe(200);
  for (const [path, headers] of [
    ["/api/v1/oauth/token", { "content-type": "application/x-www-form-urlencoded" }],
    ["/api/setup", { "content-type": "application/json" }],
    ["/api/auth/callback/credentials", { "content-type": "application/x-www-form-urlencoded" }],
    ["/api/v1/groups", { "content-type": "application/json", authorization: `Bearer ${token}` }],
    [
      "/api/v1/connections/demo/exec",
      { "content-type": "application/json", authorization: `Bearer ${token}` },
    ],
  ] as const) {
    const reply = await sendChunked(`${e2eEnv.consoleUrl}${path}`, 300 * 1024 * 1024, headers);
    expect(reply.status, path).toBe(413);
    // The reply comes once the limit (1 MiB at most) is read, not after the 300 MB.
    expect(reply.sentBeforeReply, path).toBeLessThan(16 * 1024 * 1024);
  }
  expect((await fetch(`${e2eEnv.consoleUrl}/api/health`)).ok).toBeTruthy();
});

test.describe("password guessing (a console of its own, so the wait slows down no other journey)", () => {
  let own: RunningConsole;
  test.beforeAll(async () => {
    own = await startConsole({
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      DEMO_TARGET: "off",
    });
  });
  test.afterAll(async () => {
    await own?.stop();
  });

  test("wrong passwords meet a growing wait with a message, and the right one works after it", async ({
    page,
  }) => {
    await page.goto(`${own.url}/signin`);
    await page.getByLabel("Email", { exact: true }).fill(ADMIN.email);
    const alert = page.locator(".alert.error");
    let message = "";
    for (let attempt = 0; attempt < 14 && !message.includes("Too many"); attempt++) {
      await page.getByLabel("Password", { exact: true }).fill(`guess-${attempt}`);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect(alert).toBeVisible();
      await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeEnabled();
      message = (await alert.textContent()) ?? "";
    }
    expect(message).toMatch(/Too many sign-in attempts: try again in \d+ s\./);
    await snap(page, "security-signin-throttled");
    // Once the wait has run out (at most a minute for an account), the right password works. (That the right
    // password is refused during the wait is shown in server/http/security.int.test.ts, without a clock.)
    const seconds = Number(/in (\d+) s/.exec(message)?.[1] ?? 60);
    await page.waitForTimeout((seconds + 1) * 1000);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/connections$/);
  });
});
