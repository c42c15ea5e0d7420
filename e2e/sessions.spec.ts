// The auditor's sessions journey: an admin runs statements on the demo connection, finds the session in
// /sessions by the text of a statement, and opens it to see the timeline of decisions and the masked preview;
// then replays a terminal session (markers for commands, search in the output).
import { expect, type Page, test } from "@playwright/test";
import { type SshdServer, startSshd } from "../test/harness/sshd";
import { adminRequest } from "./support/admin-api";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const SSH_CONNECTION = "e2e-replay-box";
let sshd: SshdServer | undefined;

test.afterAll(async () => {
  if (!sshd) return;
  const admin = await adminRequest(e2eEnv.consoleUrl);
  await admin.delete(`/api/v1/connections/${SSH_CONNECTION}`);
  await admin.dispose();
  await sshd.stop();
});

/** Visible text of an xterm (DOM renderer) inside `scope`. */
async function screenText(page: Page, scope: string): Promise<string> {
  const rows = await page.locator(`${scope} .xterm-rows > div`).allTextContents();
  return rows.join("\n").replace(/\u00a0/g, " ");
}

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
    data: { input: "select count(*) as n from customers", sessionId },
  });
  expect(second.status()).toBe(200);
  const blocked = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select pg_read_file('/etc/passwd')", sessionId },
  });
  expect(blocked.status()).toBe(403);

  await page.goto(`${base}/sessions`);
  await expect(page.getByRole("heading", { name: "Sessions", level: 1 })).toBeVisible();
  const filters = page.getByRole("form", { name: "Filter sessions" });
  await filters.getByLabel("Text in statements").fill(marker);
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
  await expect(statements.nth(1).locator("table.preview")).toContainText("200");
  await expect(statements.nth(2).locator(".tag").first()).toHaveText("deny");
  const preview = await statements.nth(0).locator("table.preview").textContent();
  expect(preview).not.toMatch(/[a-z]+\.[a-z-]+\d*@example\.com/);
  await expect(page.getByRole("link", { name: "Export JSON" })).toHaveAttribute(
    "href",
    `/api/v1/sessions/${sessionId}/export`,
  );
  await snap(page, "sessions-02-session");
});

test("an admin replays a terminal session, jumps to a blocked command and searches the output", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  sshd = await startSshd();
  const admin = await adminRequest(base);
  const created = await admin.post("/api/v1/connections", {
    data: {
      kind: "ssh",
      name: SSH_CONNECTION,
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      password: sshd.password,
      groups: [],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await admin.dispose();

  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.goto(`${base}/terminal?connection=${SSH_CONNECTION}`);
  const status = page.getByRole("status");
  await expect(status).toContainText(`Connected to ${SSH_CONNECTION}`);
  await expect.poll(() => screenText(page, "body")).toMatch(/[$#]\s*$/m);
  for (const line of ["echo replay-one", "shutdown -h now", "echo replay-two"]) {
    await page.locator(".xterm").click();
    await page.keyboard.type(line, { delay: 10 });
    await page.keyboard.press("Enter");
    await page.waitForTimeout(400);
  }
  await expect.poll(() => screenText(page, "body")).toMatch(/^replay-two\s*$/m);
  const sessionId = await status.getAttribute("data-session-id");
  expect(sessionId).toBeTruthy();

  await page.goto(`${base}/sessions?kind=terminal&connection=${SSH_CONNECTION}`);
  await expect(page.locator("table.data tbody tr")).toHaveCount(1);
  await page.goto(`${base}/sessions/${sessionId}`);
  await expect(page.getByRole("heading", { name: `Terminal session on ${SSH_CONNECTION}` })).toBeVisible();
  const player = page.getByRole("region", { name: "Terminal replay" });
  await expect(player.locator(".player-marker.deny")).toHaveCount(1);
  await player.getByRole("button", { name: /Jump to shutdown -h now/ }).click();
  await expect.poll(() => screenText(page, ".player")).toContain("shutdown -h now");
  await player.getByLabel("Search the recording").fill("replay-two");
  await player.getByRole("button", { name: "Find" }).click();
  await expect(player.getByText(/found at/)).toBeVisible();
  await expect.poll(() => screenText(page, ".player")).toMatch(/^replay-two\s*$/m);
  await expect(page.getByRole("link", { name: "Export asciicast" })).toBeVisible();
  await snap(page, "sessions-03-replay");
});
