// A browser terminal end to end on real parts, minus the browser: a real sshd, the console's embedded store,
// the gateway's terminal session with a fake WebSocket client that renders into its own headless terminal.
// Checks the shell works, the host key is pinned and a changed one refused, commands are decided at Enter,
// output is masked on screen and in the recording, and the asciicast export replays to the same screen.
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import xtermHeadless from "@xterm/headless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type SshdServer, startSshd } from "@/test/harness/sshd";
import { addTestBox } from "./terminal-fixtures";
import type { TerminalClient, TerminalControl, TerminalSession } from "./terminal-session";

const { Terminal } = xtermHeadless;
type Screen = InstanceType<typeof Terminal>;

let sshd: SshdServer;
let dataDir: string;
let member: Principal;
let approver: Principal;
const actor = { id: null, label: "test" };
const FULL_CARD = /\b4111[ -]?1111[ -]?1111[ -]?1111\b/;

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-terminal-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  const { createGroup, createUser, loadPrincipal } = await import("@/server/auth");
  await createGroup(actor, { name: "ops" });
  const userId = await createUser(actor, {
    email: "op@example.com",
    password: "operator-password-1",
    groups: ["ops"],
  });
  member = (await loadPrincipal(userId, "session"))!;
  const approverId = await createUser(actor, {
    email: "lead@example.com",
    password: "approver-password-1",
    role: "admin",
  });
  approver = (await loadPrincipal(approverId, "session"))!;
  await addTestBox(sshd, "ops");
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await sshd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface FakeBrowser {
  client: TerminalClient;
  screen: Screen;
  controls: TerminalControl[];
  text(): string;
  isClosed(): boolean;
}

function fakeBrowser(cols = 100, rows = 30): FakeBrowser {
  const screen = new Terminal({ cols, rows, allowProposedApi: true });
  const controls: TerminalControl[] = [];
  let isClosed = false;
  return {
    screen,
    controls,
    client: {
      output: (data) => screen.write(data),
      control: (message) => controls.push(message),
      close: () => {
        isClosed = true;
      },
      bufferedAmount: () => 0,
    },
    text: () => screenText(screen),
    isClosed: () => isClosed,
  };
}

/** The screen without line breaks and spaces, for long notices that wrap. */
function flat(browser: FakeBrowser): string {
  return browser.text().replace(/\s/g, "");
}

/** Whether the screen shows a (long, perhaps wrapped) text. */
function shows(browser: FakeBrowser, text: string): boolean {
  return flat(browser).includes(text.replace(/\s/g, ""));
}

function screenText(screen: Screen): string {
  const buffer = screen.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < screen.rows; y++)
    lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? "");
  return lines.join("\n");
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function flushed(screen: Screen) {
  await new Promise<void>((resolve) => screen.write("", resolve));
}

async function open(browser: FakeBrowser): Promise<TerminalSession> {
  const { TerminalSession } = await import("./terminal-session");
  const session = await TerminalSession.start(
    member,
    "box",
    { cols: browser.screen.cols, rows: browser.screen.rows },
    browser.client,
  );
  // Wait for the first prompt and for readline to be reading (it turns bracketed paste on): keys typed
  // before that are echoed twice, once by the tty and once by readline.
  await waitFor(
    () => /[$#]$/.test(browser.text().trimEnd()) && browser.screen.modes.bracketedPasteMode,
    "the prompt",
  );
  return session;
}

/** Types like a person: one key at a time, then Enter. */
async function typeLine(session: TerminalSession, line: string) {
  for (const key of line) {
    session.input(key);
    await new Promise((r) => setTimeout(r, 2));
  }
  session.input("\r");
}

describe("browser terminal through the gateway", () => {
  it("runs a command, pins the host key, masks and blocks, and the export replays to the same screen", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    const { getConnectionById } = await import("@/server/connections");
    const { listConnections } = await import("@/server/connections");
    const box = (await listConnections(member)).find((c) => c.name === "box")!;
    expect((await getConnectionById(box.id)).hostKey).toBe(sshd.hostKeyFingerprint);

    await typeLine(session, "echo hello");
    await waitFor(() => /^hello$/m.test(browser.text()), "hello");

    await typeLine(session, "shutdown -h now");
    await waitFor(() => browser.text().includes("[portcullis] blocked"), "the refusal");
    expect(browser.text()).toContain("shutting down or restarting the machine is not allowed");

    // The number is split in the typed line, so only the command's output holds it whole.
    await typeLine(session, "printf '4111 1111 ''1111 1111\\n' > /tmp/card-$$; cat /tmp/card-$$");
    await waitFor(() => /CREDIT_CARD|\*{4}/.test(browser.text()), "the masked card");
    expect(browser.text()).not.toMatch(FULL_CARD);

    // A full-screen redraw and a wrapped long line still replay identically.
    await typeLine(session, `echo ${"x".repeat(150)}`);
    await waitFor(() => browser.text().includes("x".repeat(100)), "the long line");
    session.resize({ cols: 90, rows: 28 });
    browser.screen.resize(90, 28);
    await typeLine(session, "stty size");
    await waitFor(() => browser.text().includes("28 90"), "the new size");

    await session.idle();
    await flushed(browser.screen);
    const finalScreen = browser.text();
    await session.end("test done");
    expect(browser.controls.some((c) => c.type === "ended")).toBe(true);

    const { exportSession } = await import("./export");
    const { collectText } = await import("@/server/http/file-pieces");
    const cast = await exportSession(member, session.sessionId);
    expect(cast.contentType).toBe("application/x-asciicast");
    const castText = await collectText(cast.body);
    const [headerLine, ...eventLines] = castText.trimEnd().split("\n");
    const header = JSON.parse(headerLine ?? "{}") as { version: number; width: number; height: number };
    expect(header).toMatchObject({ version: 2, width: 100, height: 30 });
    expect(castText).not.toMatch(FULL_CARD);
    expect(castText).toContain('"m","deny: shutdown -h now"');

    const replay = new Terminal({ cols: header.width, rows: header.height, allowProposedApi: true });
    const events = eventLines.map((l) => JSON.parse(l) as [number, string, string]);
    let lastT = 0;
    for (const [t, kind, data] of events) {
      expect(t).toBeGreaterThanOrEqual(lastT - 0.001);
      lastT = Math.max(lastT, t);
      if (kind === "o") replay.write(data);
      if (kind === "r") {
        const [cols, rows] = data.split("x").map(Number);
        await flushed(replay);
        replay.resize(cols ?? 80, rows ?? 24);
      }
    }
    await flushed(replay);
    // The recording ends with the gateway's "session ended" notice, after what the screen showed.
    const replayed = screenText(replay);
    const withoutNotice = replayed.replace(/\n\[portcullis\] session ended: test done[\s\S]*$/, "");
    expect(withoutNotice.trimEnd()).toBe(finalScreen.trimEnd());

    const { getSessionWithEvents } = await import("@/server/recording");
    const stored = await getSessionWithEvents(session.sessionId);
    expect(stored?.session.state).toBe("ended");
    expect(stored?.session.blocked).toBe(1);
    expect(stored?.session.maskedFields).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toMatch(FULL_CARD);
    const commands = stored?.events.filter((e) => e.type === "command").map((e) => e.data.command);
    expect(commands).toContain("echo hello");
  });

  it("decides what is on screen after history recall and tab completion", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    await typeLine(session, "echo ok-1");
    await waitFor(() => /^ok-1$/m.test(browser.text()), "ok-1");
    // Up arrow recalls `echo ok-1`; edit it into a refused command on screen only.
    session.input("\u001b[A");
    await new Promise((r) => setTimeout(r, 100));
    session.input("\u0001"); // Ctrl-A: start of line
    for (const key of "reboot; ") session.input(key);
    await new Promise((r) => setTimeout(r, 100));
    session.input("\r");
    await waitFor(() => browser.text().includes("[portcullis] blocked"), "the refusal of the recalled line");
    // Tab completes `ech` to `echo ` on screen; the typed keys alone would not say so.
    for (const key of "ech\t") session.input(key);
    await new Promise((r) => setTimeout(r, 150));
    for (const key of "tab-ok\r") session.input(key);
    await waitFor(() => /^tab-ok$/m.test(browser.text()), "the completed command's output");
    // A bracketed paste of two lines is one command line, run (and decided) at the next Enter.
    session.input("\u001b[200~echo paste-1\recho paste-2\u001b[201~");
    await new Promise((r) => setTimeout(r, 150));
    session.input("\r");
    await waitFor(() => /^paste-2$/m.test(browser.text()), "the pasted lines' output");
    // Paste markers sent to a shell that did not ask for them do not hide an Enter.
    await typeLine(session, "bind 'set enable-bracketed-paste off'");
    await new Promise((r) => setTimeout(r, 150));
    session.input("\u001b[200~halt\r\u001b[201~");
    await waitFor(
      () => browser.text().split("[portcullis] blocked").length > 2,
      "the refusal of the fake paste",
    );
    await session.idle();
    const { getSessionWithEvents } = await import("@/server/recording");
    const stored = await getSessionWithEvents(session.sessionId);
    const denied = stored?.events.find((e) => e.type === "command" && e.data.decision === "deny");
    expect(denied?.data.command).toBe("reboot; echo ok-1");
    const completed = stored?.events.filter((e) => e.type === "command").map((e) => e.data.command);
    expect(completed).toContain("echo tab-ok");
    expect(completed).toContain("echo paste-1\necho paste-2");
    // Readline swallowed the fake paste without echo; the typed keys alone still got it refused.
    const last = stored?.events.filter((e) => e.type === "command").at(-1);
    expect(last?.data).toMatchObject({ decision: "deny", isHidden: true, command: null });
    await session.end("test done");
  });

  it("holds a review command, follows a command over continuation lines, and ends an idle session", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    await typeLine(session, "kubectl delete pod web-1");
    await waitFor(() => browser.text().includes("press Ctrl+C to withdraw"), "the hold notice");
    session.input("\u0003");
    await waitFor(() => browser.text().includes("not run: withdrawn"), "the withdrawal");

    // An open quote continues on the next line; the refusal sees both lines and cancels the whole command.
    await typeLine(session, "echo 'one");
    await waitFor(() => /^> ?$/m.test(browser.text()), "the continuation prompt");
    await typeLine(session, "'; touch /tmp/should-not-exist-$$; reboot");
    await waitFor(() => browser.text().split("[portcullis] blocked").length > 1, "the refusal");
    await session.idle();
    const { getSessionWithEvents } = await import("@/server/recording");
    const stored = await getSessionWithEvents(session.sessionId);
    const decisions = stored?.events
      .filter((e) => e.type === "command")
      .map((e) => [e.data.decision, e.data.command]);
    expect(decisions).toEqual([
      ["review", "kubectl delete pod web-1"],
      ["allow", "echo 'one"],
      ["deny", "echo 'one\n'; touch /tmp/should-not-exist-$$; reboot"],
    ]);
    expect(stored?.session.held).toBe(1);
    await session.end("test done");

    process.env.TERMINAL_IDLE_TIMEOUT = "1";
    try {
      const idle = fakeBrowser();
      await open(idle);
      await waitFor(() => idle.isClosed(), "the idle timeout", 5000);
      expect(idle.controls.at(-1)).toEqual({ type: "ended", reason: "idle for 1 second" });
    } finally {
      delete process.env.TERMINAL_IDLE_TIMEOUT;
    }
  });

  it("keyframes a long session, and a seek through the replay API shows the screen of a full replay", async () => {
    const browser = fakeBrowser(90, 25);
    const session = await open(browser);
    // ~2.4 MB of coloured output: several keyframes by the output budget.
    await typeLine(session, "seq -f '\\033[32m%g\\033[0m line' 1 150000; echo seq-done");
    await waitFor(() => /^seq-done$/m.test(browser.text()), "the output", 60_000);
    await typeLine(session, "printf '4111 1111 ''1111 1111\\n'");
    await waitFor(() => /\*{4}|CREDIT_CARD/.test(browser.text()), "the masked card");
    await typeLine(session, "reboot");
    await waitFor(() => browser.text().includes("[portcullis] blocked"), "the refusal");
    await typeLine(session, "seq 1 20000 | tail -3");
    await waitFor(() => /^20000$/m.test(browser.text()), "the tail");
    await session.idle();
    await session.end("test done");

    const { replayAt, replayAfter, replayTimeline, searchReplay } = await import("./replay");
    const timeline = await replayTimeline(member, session.sessionId);
    expect(timeline.keyframes.length).toBeGreaterThanOrEqual(3);
    expect(timeline.markers.map((m) => m.kind)).toContain("blocked");
    expect(timeline.markers.map((m) => m.kind)).toContain("masked");
    const hits = await searchReplay(member, session.sessionId, "149999");
    expect(hits).toHaveLength(1);

    const { getSessionWithEvents } = await import("@/server/recording");
    const stored = (await getSessionWithEvents(session.sessionId))!;
    const recorded = stored.events.filter((e) => e.type === "output" || e.type === "resize");
    const { MAX_OUTPUT_EVENT_CHARS } = await import("./recorder");
    const outputSizes = recorded.filter((e) => e.type === "output").map((e) => String(e.data.data).length);
    expect(Math.max(...outputSizes)).toBeLessThanOrEqual(MAX_OUTPUT_EVENT_CHARS);
    // Each keyframe names the output event it follows, wherever it was written: the output through that event
    // is exactly its offset (written once the screen had caught up, not where it stopped the output).
    const keyframeEvents = stored.events.filter((e) => e.type === "keyframe");
    expect(keyframeEvents.length).toBe(timeline.keyframes.length);
    for (const k of keyframeEvents) {
      const through = stored.events
        .filter((e) => e.type === "output" && e.id <= Number(k.data.afterEventId))
        .reduce((n, e) => n + String(e.data.data).length, 0);
      expect(stored.events.find((e) => e.id === k.data.afterEventId)?.type).toBe("output");
      expect(through).toBe(k.data.offset);
    }
    const full = async (at: number) => {
      const screen = new Terminal({ cols: 90, rows: 25, allowProposedApi: true });
      for (const e of recorded) {
        if (Number(e.data.t) > at) break;
        if (e.type === "output") screen.write(String(e.data.data));
        else {
          await flushed(screen);
          screen.resize(Number(e.data.cols), Number(e.data.rows));
        }
      }
      await flushed(screen);
      return screenText(screen);
    };
    const times = [
      ...timeline.keyframes.map((k) => k + 0.001),
      hits[0]!.t,
      timeline.duration / 3,
      timeline.duration,
    ];
    const responses: unknown[] = [timeline, hits];
    for (const at of times) {
      const chunk = await replayAt(member, session.sessionId, at);
      responses.push(chunk);
      expect(chunk.keyframe === null || chunk.keyframe.t <= at).toBe(true);
      const screen = new Terminal({ cols: chunk.cols, rows: chunk.rows, allowProposedApi: true });
      if (chunk.keyframe) {
        screen.resize(chunk.keyframe.cols, chunk.keyframe.rows);
        screen.write(chunk.keyframe.screen);
      }
      for (const e of chunk.events) {
        if (e.t > at) break;
        if (e.type === "output") screen.write(e.data);
        else {
          await flushed(screen);
          screen.resize(e.cols, e.rows);
        }
      }
      await flushed(screen);
      expect(screenText(screen), `the screen at ${at} s`).toBe(await full(at));
    }
    // Playing on from a seek reaches the end of the recording in chunks.
    let chunk = await replayAt(member, session.sessionId, 0);
    let count = chunk.events.filter((e) => e.type === "output").length;
    while (chunk.next !== null) {
      const more = await replayAfter(member, session.sessionId, chunk.next, chunk.events.at(-1)?.t ?? 0);
      count += more.events.filter((e) => e.type === "output").length;
      chunk = { ...chunk, ...more };
    }
    expect(count).toBe(recorded.filter((e) => e.type === "output").length);
    expect(JSON.stringify(responses)).not.toMatch(FULL_CARD);
  });

  it("ends the session, failed, when the gateway's screen worker stops, and runs no line it could not read", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    await typeLine(session, "echo before");
    await waitFor(() => /^before$/m.test(browser.text()), "the first command");
    const { crashScreenWorker } = await import("./screen");
    const file = path.join(tmpdir(), `portcullis-screen-crash-${process.pid}`);
    await crashScreenWorker();
    // Typed at once: the gateway cannot read the line off its screen, so it must not send the Enter.
    await typeLine(session, `touch ${file}`);
    await waitFor(() => browser.controls.some((c) => c.type === "ended"), "the session to end");
    expect(browser.controls.find((c) => c.type === "ended")).toMatchObject({
      reason: expect.stringMatching(/screen emulation failed|could not check a command/),
    });
    expect(browser.isClosed()).toBe(true);
    const { getSessionWithEvents } = await import("@/server/recording");
    await waitFor(
      async () => (await getSessionWithEvents(session.sessionId))?.session.state === "failed",
      "the recording to be closed as failed",
    );
    expect(existsSync(file)).toBe(false);
    // The next terminal gets a new worker.
    const next = fakeBrowser();
    const again = await open(next);
    await typeLine(again, "echo after");
    await waitFor(() => /^after$/m.test(next.text()), "a command in the next terminal");
    await again.end("test done");
  });

  it("refuses a changed host key with a clear message", async () => {
    const { listConnections } = await import("@/server/connections");
    const { pinHostKey } = await import("@/server/connections/service");
    const box = (await listConnections(member)).find((c) => c.name === "box")!;
    await pinHostKey(box.id, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    const { TerminalSession } = await import("./terminal-session");
    await expect(
      TerminalSession.start(member, "box", { cols: 80, rows: 24 }, fakeBrowser().client),
    ).rejects.toThrow(/host key of 127\.0\.0\.1 changed/);

    // Trusting needs the key the server offers now; a reset pins again on the next session.
    const { getConnectionById, resetHostKey, trustHostKey } = await import("@/server/connections");
    await expect(
      trustHostKey(actor, box.id, "SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
    ).rejects.toThrow(/now offers SHA256:/);
    expect((await trustHostKey(actor, box.id, sshd.hostKeyFingerprint)).hostKey).toBe(
      sshd.hostKeyFingerprint,
    );
    const reset = await resetHostKey(actor, box.id);
    expect(reset).toMatchObject({ hostKey: null, hostKeyPinnedAt: null });

    // The connection's own limits apply to its next session.
    const { updateConnection } = await import("@/server/connections");
    await updateConnection(actor, box.id, {
      terminal: { idleTimeoutSeconds: 600, maxDurationSeconds: 3600 },
    });
    const browser = fakeBrowser();
    const session = await open(browser);
    expect(browser.controls[0]).toMatchObject({
      type: "ready",
      idleTimeoutSeconds: 600,
      maxDurationSeconds: 3600,
    });
    const repinned = await getConnectionById(box.id);
    expect(repinned.hostKey).toBe(sshd.hostKeyFingerprint);
    expect(repinned.hostKeyPinnedAt).not.toBeNull();
    const { listAuditEvents } = await import("@/server/audit");
    const actions = (await listAuditEvents()).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["connection.host_key_trust", "connection.host_key_reset"]),
    );

    // Admins see it among the live terminals and can end it; its user is told who did.
    const { endLiveTerminal, listLiveTerminals } = await import("./index");
    expect(await listLiveTerminals()).toContainEqual(
      expect.objectContaining({
        sessionId: session.sessionId,
        connectionName: "box",
        principalLabel: "op@example.com",
      }),
    );
    await endLiveTerminal({ id: null, label: "the lead" }, session.sessionId);
    await waitFor(() => browser.isClosed(), "the ended session");
    expect(browser.controls.at(-1)).toEqual({ type: "ended", reason: "ended by the lead" });
    expect((await listLiveTerminals()).map((t) => t.sessionId)).not.toContain(session.sessionId);
    await expect(endLiveTerminal(actor, session.sessionId)).rejects.toThrow(/no live terminal/);
  });
});

describe("commands held for approval in the browser terminal", () => {
  const markers = mkdtempSync(path.join(tmpdir(), "portcullis-markers-"));
  chmodSync(markers, 0o777);
  afterAll(() => rmSync(markers, { recursive: true, force: true }));
  const marker = (name: string) => path.join(markers, `portcullis-marker-${name}`);

  /** Types a line that the review rule holds, and waits for the hold notice; returns the review's id. */
  async function holdLine(session: TerminalSession, browser: FakeBrowser, line: string) {
    const { listReviews } = await import("@/server/approvals");
    const pending = async () =>
      (await listReviews(member, "mine")).find(
        (r) => r.sessionId === session.sessionId && r.state === "pending",
      );
    await typeLine(session, line);
    await waitFor(async () => (await pending()) !== undefined, "the review");
    const review = (await pending())!;
    expect(review).toMatchObject({ input: line, channel: "terminal" });
    await waitFor(
      () => shows(browser, `review ${review.id}, waiting… press Ctrl+C to withdraw`),
      "the notice",
    );
    return review.id;
  }

  async function reviewState(id: string) {
    const { getReview } = await import("@/server/approvals");
    return getReview(approver, id);
  }

  it("sends the held line only when another person approves it, and records the review", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    const file = marker("approved");
    const reviewId = await holdLine(session, browser, `touch ${file} && echo made-it`);
    expect(shows(browser, "markers need a second pair of eyes")).toBe(true);
    // Keys typed while waiting are not sent, and nothing ran.
    await typeLine(session, "echo typed-while-held");
    await session.idle();
    expect(existsSync(file)).toBe(false);
    expect((await reviewState(reviewId)).state).toBe("pending");

    const { decideReview } = await import("@/server/approvals");
    await expect(decideReview(member, reviewId, "approve", "mine")).rejects.toThrow(/your own request/);
    await decideReview(approver, reviewId, "approve", "go ahead");
    await waitFor(() => existsSync(file), "the approved command to run");
    await waitFor(() => /^made-it$/m.test(browser.text()), "its output");
    expect(shows(browser, "approved by lead@example.com")).toBe(true);
    expect(browser.text()).not.toContain("typed-while-held\r");
    await waitFor(async () => (await reviewState(reviewId)).state === "executed", "executed");

    // Back to normal afterwards.
    await typeLine(session, "echo after-review");
    await waitFor(() => /^after-review$/m.test(browser.text()), "the next command");
    await session.idle();
    const { getSessionWithEvents } = await import("@/server/recording");
    const stored = await getSessionWithEvents(session.sessionId);
    const reviews = stored?.events.filter((e) => e.type === "review").map((e) => [e.data.outcome, e.data.by]);
    expect(reviews).toEqual([
      ["held", undefined],
      ["approved", ["lead@example.com"]],
    ]);
    await session.end("test done");
  });

  it("clears a denied line, withdraws on Ctrl+C, and refuses a line that changed on screen", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    const { decideReview } = await import("@/server/approvals");

    const denied = marker("denied");
    const deniedId = await holdLine(session, browser, `touch ${denied}`);
    await decideReview(approver, deniedId, "deny", "not on a Friday");
    await waitFor(() => shows(browser, "not run: denied by lead@example.com"), "the denial");
    expect(shows(browser, "not on a Friday")).toBe(true);

    const withdrawn = marker("withdrawn");
    const withdrawnId = await holdLine(session, browser, `touch ${withdrawn}`);
    session.input("\u0003");
    await waitFor(() => shows(browser, `not run: withdrawn (review ${withdrawnId})`), "the withdrawal");
    expect((await reviewState(withdrawnId)).state).toBe("cancelled");

    // A background job writes onto the held line; the approval then no longer matches the screen.
    await typeLine(session, "(sleep 2; printf ' ; echo sne''aky') &");
    await waitFor(() => /^\[1\] \d+\n.*[$#]$/m.test(browser.text().trimEnd()), "the job's prompt");
    const edited = marker("edited");
    const editedId = await holdLine(session, browser, `touch ${edited}`);
    await waitFor(() => browser.text().includes("; echo sneaky"), "the background job's text");
    await decideReview(approver, editedId, "approve", "");
    await waitFor(() => shows(browser, "changed after it was held"), "the refusal");
    const review = await reviewState(editedId);
    expect(review.state).toBe("failed");
    expect(review).toMatchObject({ result: { error: expect.stringMatching(/changed after it was held/) } });

    await typeLine(session, "echo still-here");
    await waitFor(() => /^still-here$/m.test(browser.text()), "the next command");
    for (const file of [denied, withdrawn, edited]) expect(existsSync(file)).toBe(false);
    await session.end("test done");
  });

  it("blocks a line to hold when its review cannot be created, and runs nothing (the core's hold fails closed)", async () => {
    const { productionGatewayDeps, wireGateway } = await import("@/server/gateway");
    wireGateway({
      ...productionGatewayDeps(),
      reviews: { create: () => Promise.reject(new Error("reviews table gone")) },
    });
    try {
      const browser = fakeBrowser();
      const session = await open(browser);
      const file = marker("no-review");
      await typeLine(session, `touch ${file}`);
      await waitFor(() => shows(browser, "blocked: the review could not be created"), "the refusal");
      await typeLine(session, "echo still-here");
      await waitFor(() => /^still-here$/m.test(browser.text()), "the next command");
      expect(existsSync(file)).toBe(false);
      expect(browser.text()).not.toContain("reviews table gone");
      await session.end("test done");
    } finally {
      wireGateway();
    }
  });

  it("fails an approval that arrives after the terminal closed", async () => {
    const browser = fakeBrowser();
    const session = await open(browser);
    const file = marker("closed");
    const reviewId = await holdLine(session, browser, `touch ${file}`);
    await session.end("test done");
    const { decideReview } = await import("@/server/approvals");
    const decided = await decideReview(approver, reviewId, "approve", "too late");
    expect(decided.state).toBe("failed");
    expect(decided).toMatchObject({ result: { error: expect.stringMatching(/terminal session ended/) } });
    expect(existsSync(file)).toBe(false);
  });
});
