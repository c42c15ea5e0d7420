// The terminal journey: an admin adds an SSH connection to a real sshd (started here, as root) through the
// API, opens it in the browser terminal, runs a command, resizes the window and sees the remote pty follow,
// has a refused command explained in the terminal, sees a card number masked in output, and exports the
// recording as asciicast. Admins list live terminals and end one; its user sees the notice.
import { expect, type Page, test } from "@playwright/test";
import { type SshdServer, startSshd } from "../test/harness/sshd";
import { adminRequest } from "./support/admin-api";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const CONNECTION = "e2e-box";
const FULL_CARD = /\b4111[ -\u00a0]?1111[ -\u00a0]?1111[ -\u00a0]?1111\b/;
let sshd: SshdServer;

test.beforeAll(async () => {
  sshd = await startSshd();
  const admin = await adminRequest(e2eEnv.consoleUrl);
  const created = await admin.post("/api/v1/connections", {
    data: {
      kind: "ssh",
      name: CONNECTION,
      description: "The throwaway sshd of the terminal journey",
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      password: sshd.password,
      groups: [],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await admin.dispose();
});

test.afterAll(async () => {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  await admin.delete(`/api/v1/connections/${CONNECTION}`);
  await admin.dispose();
  await sshd?.stop();
});

/** The terminal's visible text (xterm's DOM renderer), with non-breaking spaces made plain. */
async function screen(page: Page): Promise<string> {
  const rows = await page.locator(".xterm-rows > div").allTextContents();
  return rows.join("\n").replace(/\u00a0/g, " ");
}

async function run(page: Page, line: string) {
  await page.locator(".xterm").click();
  await page.keyboard.type(line, { delay: 15 });
  await page.keyboard.press("Enter");
}

async function sttySize(page: Page, marker: string): Promise<string> {
  await run(page, `echo ${marker}-$(stty size | tr ' ' x)`);
  let size = "";
  await expect(async () => {
    const match = new RegExp(`^${marker}-(\\d+x\\d+)\\s*$`, "m").exec(await screen(page));
    expect(match).not.toBeNull();
    size = match?.[1] ?? "";
  }).toPass();
  return size;
}

test("a terminal through the gateway: runs, resizes, refuses, masks, records", async ({ page }) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.goto(`${base}/terminal?connection=${CONNECTION}`);
  const status = page.getByRole("status");
  await expect(status).toContainText(`Connected to ${CONNECTION}`);
  await expect(status).toContainText(`${sshd.username}@${sshd.host}`);
  await expect(status).toContainText("recording on");
  await expect.poll(() => screen(page)).toMatch(/[$#]\s*$/m);

  await run(page, "echo hello");
  await expect.poll(() => screen(page)).toMatch(/^hello\s*$/m);
  await snap(page, "terminal-hello");

  const before = await sttySize(page, "size1");
  await page.setViewportSize({ width: 900, height: 560 });
  const after = await sttySize(page, "size2");
  expect(after).not.toBe(before);
  const [rows, cols] = after.split("x").map(Number);
  expect(rows).toBeLessThan(Number(before.split("x")[0]));
  expect(cols).toBeLessThan(Number(before.split("x")[1]));
  await page.setViewportSize({ width: 1280, height: 800 });

  await run(page, "shutdown -h now");
  await expect.poll(() => screen(page)).toContain("[portcullis] blocked");
  expect(await screen(page)).toContain("shutting down or restarting the machine is not allowed");
  await snap(page, "terminal-blocked");

  // The typed line splits the number, so only the command's output holds it whole.
  await run(page, "printf '4111 1111 ''1111 1111\\n' > /tmp/x-$$; cat /tmp/x-$$; echo card-done");
  await expect.poll(() => screen(page)).toMatch(/^card-done\s*$/m);
  const shown = await screen(page);
  expect(shown).not.toMatch(FULL_CARD);
  expect(shown).toMatch(/CREDIT_CARD|\*{4}.*1111/);
  await snap(page, "terminal-masked");

  // The recording: exported as asciicast, masked, with the refusal marked.
  const sessionId = await status.getAttribute("data-session-id");
  expect(sessionId).toBeTruthy();
  const live = await page.request.get(`${base}/api/v1/terminals`);
  const { terminals } = (await live.json()) as { terminals: { sessionId: string; connectionName: string }[] };
  expect(terminals.map((t) => t.sessionId)).toContain(sessionId);

  const cast = await page.request.get(`${base}/api/v1/sessions/${sessionId}/export`);
  expect(cast.status()).toBe(200);
  expect(cast.headers()["content-type"]).toContain("application/x-asciicast");
  const body = await cast.text();
  const header = JSON.parse(body.split("\n")[0] ?? "{}") as { version: number; width: number };
  expect(header.version).toBe(2);
  expect(body).toContain("hello");
  expect(body).toContain('"m","deny: shutdown -h now"');
  expect(body).not.toMatch(FULL_CARD);

  // An admin ends the live session from /sessions (another tab); the user sees why and can reconnect.
  const sessions = await page.context().newPage();
  await sessions.goto(`${base}/sessions?channel=terminal`);
  const row = sessions.locator("table.data tbody tr", {
    has: sessions.locator(`a[href="/sessions/${sessionId}"]`),
  });
  await expect(row.locator(".tag")).toHaveText("live");
  sessions.once("dialog", (dialog) => void dialog.accept());
  await row.getByRole("button", { name: `End the terminal session of ${ADMIN.email}` }).click();
  await expect(row.locator(".tag")).toHaveText("ended");
  await snap(sessions, "terminal-ended-in-sessions");
  await sessions.close();
  await expect(status).toContainText(`Session ended: ended by ${ADMIN.email}`);
  await expect(page.getByRole("button", { name: "Reconnect" })).toBeVisible();
  await snap(page, "terminal-ended");
  await page.getByRole("button", { name: "Reconnect" }).click();
  await expect(status).toContainText(`Connected to ${CONNECTION}`);
  const newId = await status.getAttribute("data-session-id");
  expect(newId).not.toBe(sessionId);

  // The connection's page: the pinned host key (reset, then pinned again by a test) and its time limits.
  await page.goto(`${base}/connections/${CONNECTION}`);
  const hostKey = page.getByRole("group", { name: "Host key" });
  await expect(hostKey.getByTestId("host-key")).toHaveText(sshd.hostKeyFingerprint);
  await expect(hostKey).toContainText("since");
  await page.getByLabel("Idle timeout (minutes)").fill("45");
  await page.getByLabel("Maximum duration (minutes)").fill("120");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await snap(page, "terminal-connection-host-key");
  page.once("dialog", (dialog) => void dialog.accept());
  await hostKey.getByRole("button", { name: "Reset host key" }).click();
  await expect(hostKey).toContainText("Not pinned yet");
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(hostKey.getByTestId("host-key")).toHaveText(sshd.hostKeyFingerprint);
  await page.reload();
  await expect(page.getByLabel("Idle timeout (minutes)")).toHaveValue("45");
  const read = await page.request.get(`${base}/api/v1/connections/${CONNECTION}`);
  expect(((await read.json()) as { connection: { terminal: unknown } }).connection.terminal).toEqual({
    idleTimeoutSeconds: 2700,
    maxDurationSeconds: 7200,
  });
  const bad = await page.request.patch(`${base}/api/v1/connections/${CONNECTION}`, {
    data: { terminal: { idleTimeoutSeconds: 3 } },
  });
  expect(bad.status()).toBe(400);
  expect(await bad.text()).toContain("at least 10 seconds");
});

test("a command held for approval runs in the engineer's terminal once an approver approves it", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  const engineer = { email: "terminal.engineer@example.com", password: "engineer-password-1" };
  const approverContext = await browser.newContext();
  const approver = await approverContext.newPage();
  await signIn(approver, base, ADMIN.email, ADMIN.password);
  const api = approver.request;
  expect((await api.post(`${base}/api/v1/groups`, { data: { name: "e2e-engineers" } })).status()).toBe(201);
  const user = await api.post(`${base}/api/v1/users`, { data: { ...engineer, groups: ["e2e-engineers"] } });
  expect(user.status(), await user.text()).toBe(201);
  const shared = await api.patch(`${base}/api/v1/connections/${CONNECTION}`, {
    data: { groups: ["e2e-engineers"] },
  });
  expect(shared.status(), await shared.text()).toBe(200);
  const rule = await api.post(`${base}/api/v1/policies/commands`, {
    data: {
      name: "Markers need a review",
      connection: CONNECTION,
      matchKind: "regex",
      pattern: "e2e-marker",
      action: "review",
      message: "marker commands need a second pair of eyes",
    },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  const { id: ruleId } = (await rule.json()) as { id: string };

  const engineerContext = await browser.newContext();
  const page = await engineerContext.newPage();
  await signIn(page, base, engineer.email, engineer.password);
  await page.goto(`${base}/terminal?connection=${CONNECTION}`);
  await expect(page.getByRole("status")).toContainText(`Connected to ${CONNECTION}`);
  await expect.poll(() => screen(page)).toMatch(/[$#]\s*$/m);

  // The output (…-42) differs from the typed line, so seeing it proves the command ran.
  await run(page, "echo e2e-marker-ran-$((40+2))");
  await expect.poll(() => screen(page)).toContain("press Ctrl+C to withdraw");
  expect((await screen(page)).replace(/\s/g, "")).toContain(
    "heldforapproval:markercommandsneedasecondpairofeyes",
  );
  expect(await screen(page)).not.toMatch(/^e2e-marker-ran-42\s*$/m);
  await snap(page, "terminal-review-held");

  await approver.goto(`${base}/inbox`);
  const card = approver.getByRole("article", { name: `Review of ${engineer.email} on ${CONNECTION}` });
  await expect(card).toContainText("wants to run a command on");
  await expect(card).toContainText("echo e2e-marker-ran-$((40+2))");
  await snap(approver, "terminal-review-inbox");
  await card.getByLabel("Comment").fill("fine by me");
  await card.getByRole("button", { name: "Approve" }).click();

  await expect.poll(() => screen(page)).toMatch(/^e2e-marker-ran-42\s*$/m);
  expect(await screen(page)).toContain("approved by admin@example.com");
  await snap(page, "terminal-review-approved");
  await expect
    .poll(async () => {
      const res = await api.get(`${base}/api/v1/reviews?scope=history`);
      const { reviews } = (await res.json()) as { reviews: { input: string; state: string }[] };
      return reviews.find((r) => r.input === "echo e2e-marker-ran-$((40+2))")?.state;
    })
    .toBe("executed");

  await api.delete(`${base}/api/v1/policies/commands/${ruleId}`);
  await engineerContext.close();
  await approverContext.close();
});
