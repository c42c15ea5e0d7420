// The auditor's sessions journey: an admin runs statements on the demo connection, finds the session in
// /sessions by the text of a statement, and opens it to see the timeline of decisions and the masked preview;
// then an auditor replays a terminal session: scrubs to the middle and sees the screen a terminal fed the
// recording up to then shows, jumps to the blocked command, searches, and no replay answer holds a card number.
import { expect, type Page, test } from "@playwright/test";
import xtermHeadless from "@xterm/headless";
import { type SshdServer, startSshd } from "../test/harness/sshd";
import { adminRequest } from "./support/admin-api";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const { Terminal } = xtermHeadless;
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

/** The screen of a headless terminal fed a recording's output (asciicast v2 lines) up to `at` seconds. */
async function screenAt(cast: string, at: number): Promise<string> {
  const [headerLine, ...lines] = cast.trimEnd().split("\n");
  const header = JSON.parse(headerLine ?? "{}") as { width: number; height: number };
  const term = new Terminal({ cols: header.width, rows: header.height, allowProposedApi: true });
  const flushed = () => new Promise<void>((resolve) => term.write("", resolve));
  for (const line of lines) {
    const [t, kind, data] = JSON.parse(line) as [number, string, string];
    if (t > at) break;
    if (kind === "o") term.write(data);
    if (kind === "r") {
      await flushed();
      const [cols, rows] = data.split("x").map(Number);
      term.resize(cols ?? 80, rows ?? 24);
    }
  }
  await flushed();
  const buffer = term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < term.rows; y++)
    rows.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? "");
  term.dispose();
  return rows.map((r) => r.trimEnd()).join("\n");
}

/** The player's screen, rows trimmed like screenAt's. */
async function playerScreen(page: Page): Promise<string> {
  return (await screenText(page, ".player"))
    .split("\n")
    .map((r) => r.trimEnd())
    .join("\n");
}

const FULL_CARD = /\b4111[ -]?1111[ -]?1111[ -]?1111\b/;

test("an auditor replays a terminal session: scrubs to the middle, jumps to a blocked command, searches", async ({
  page,
}) => {
  test.setTimeout(240_000);
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
  // Enough output for keyframes (one every 512 KB), a card number the gateway masks, a refused command.
  for (const line of [
    "echo replay-one",
    "seq -f 'row %g of the long listing' 1 60000",
    "printf '4111 1111 ''1111 1111\\n'",
    "shutdown -h now",
    "echo replay-two",
  ]) {
    await page.locator(".xterm").click();
    await page.keyboard.type(line, { delay: 10 });
    await page.keyboard.press("Enter");
    await page.waitForTimeout(line.startsWith("seq") ? 3000 : 400);
  }
  await expect.poll(() => screenText(page, "body")).toMatch(/^replay-two\s*$/m);
  const sessionId = await status.getAttribute("data-session-id");
  expect(sessionId).toBeTruthy();

  await page.goto(`${base}/sessions?kind=terminal&connection=${SSH_CONNECTION}`);
  await expect(page.locator("table.data tbody tr")).toHaveCount(1);
  // Everything the player reads from the replay API, to scan for the card number.
  const replayBodies: string[] = [];
  page.on("response", (response) => {
    if (/\/api\/v1\/sessions\/[^/]+\/(replay|timeline|search)/.test(response.url()))
      void response.text().then((body) => replayBodies.push(body));
  });
  await page.goto(`${base}/sessions/${sessionId}`);
  await expect(page.getByRole("heading", { name: `Terminal session on ${SSH_CONNECTION}` })).toBeVisible();
  const player = page.getByRole("region", { name: "Terminal replay" });
  await expect(player.locator(".player-marker.deny")).toHaveCount(1);
  await expect(player.locator(".player-marker.masked").first()).toBeVisible();
  const cast = await (await page.request.get(`${base}/api/v1/sessions/${sessionId}/export`)).text();
  expect(cast).not.toMatch(FULL_CARD);
  const timeline = (await (
    await page.request.get(`${base}/api/v1/sessions/${sessionId}/timeline`)
  ).json()) as {
    duration: number;
    keyframes: number[];
  };
  expect(timeline.keyframes.length).toBeGreaterThan(0);

  // Scrub to the middle: the screen is the one a terminal fed the whole recording up to then shows.
  const slider = player.getByRole("slider", { name: "Position" });
  // A mouse click lands where the page is scrolled: bring the scrubber into view first.
  await slider.scrollIntoViewIfNeeded();
  const box = await slider.boundingBox();
  expect(box).toBeTruthy();
  await page.mouse.click((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + (box?.height ?? 0) / 2);
  // The click starts a seek: wait until the player has moved there and loaded it.
  await expect
    .poll(async () => Number(await player.getAttribute("data-position")))
    .toBeGreaterThan(timeline.duration * 0.3);
  await expect(player).toHaveAttribute("aria-busy", "false");
  const middle = Number(await player.getAttribute("data-position"));
  expect(middle).toBeGreaterThan(timeline.duration * 0.3);
  expect(middle).toBeLessThan(timeline.duration * 0.7);
  const expectedMiddle = await screenAt(cast, middle);
  await expect.poll(() => playerScreen(page)).toBe(expectedMiddle);
  await snap(page, "sessions-03-replay-middle");

  // The blocked marker lands on the refusal.
  await player.getByRole("button", { name: /Jump to shutdown -h now \(deny\)/ }).click();
  await expect(player).toHaveAttribute("aria-busy", "false");
  const blockedAt = Number(await player.getAttribute("data-position"));
  const expectedBlocked = await screenAt(cast, blockedAt);
  expect(expectedBlocked).toContain("shutdown -h now");
  await expect.poll(() => playerScreen(page)).toBe(expectedBlocked);
  await snap(page, "sessions-04-replay-blocked");

  // Jump to a time typed as m:ss, then search the output on the server.
  await player.getByLabel("Jump to time").fill("0:00");
  await player.getByRole("button", { name: "Go" }).click();
  await expect(player).toHaveAttribute("data-position", "0");
  await player.getByLabel("Search the recording").fill("replay-two");
  await player.getByRole("button", { name: "Find" }).click();
  await expect(player.getByText(/found at/)).toBeVisible();
  await expect.poll(() => screenText(page, ".player")).toContain("replay-two");
  await expect(page.getByRole("link", { name: "Export asciicast" })).toBeVisible();
  await snap(page, "sessions-05-replay-search");

  // No replay answer holds the card number unmasked.
  const search = await page.request.get(`${base}/api/v1/sessions/${sessionId}/search?q=1111`);
  replayBodies.push(await search.text());
  for (const at of [0, middle, blockedAt, timeline.duration]) {
    replayBodies.push(
      await (await page.request.get(`${base}/api/v1/sessions/${sessionId}/replay?at=${at}`)).text(),
    );
  }
  expect(replayBodies.length).toBeGreaterThan(5);
  for (const body of replayBodies) expect(body).not.toMatch(FULL_CARD);
});
