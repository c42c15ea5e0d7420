// The terminal recorder on the real embedded store: output that arrives while a write is in flight is coalesced
// into large events (up to MAX_OUTPUT_EVENT_CHARS), written in order, and handed to the browser only once
// stored, as the same text; an idle keystroke's echo is written alone at once. A store that refuses a write
// ends the recording: nothing after the refused event reaches the browser.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";

let dataDir: string;
const person: Principal = {
  id: "recorder-test",
  email: "op@example.com",
  name: "op",
  role: "admin",
  kind: "person",
  groups: [],
  via: "session",
};

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-recorder-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function recording() {
  const { startSession } = await import("@/server/recording");
  const { Recorder } = await import("./recorder");
  const sessionId = await startSession(person, { id: "box", name: "box" }, "terminal", "terminal");
  const sent: string[] = [];
  const failures: Error[] = [];
  const recorder = new Recorder(sessionId, performance.now(), {
    onOutputStored: (text) => sent.push(text),
    maskInput: (text) => text,
    onFailure: (error) => failures.push(error),
  });
  return { sessionId, recorder, sent, failures };
}

/** A recorder whose keyframes wait for the test to hand over the screen (a screen worker far behind). */
async function recordingWithSlowScreen() {
  const { startSession } = await import("@/server/recording");
  const { Recorder } = await import("./recorder");
  const sessionId = await startSession(person, { id: "box", name: "box" }, "terminal", "terminal");
  const sent: string[] = [];
  const failures: Error[] = [];
  const asked: ((state: { cols: number; rows: number; screen: string } | undefined) => void)[] = [];
  const recorder = new Recorder(sessionId, performance.now(), {
    onOutputStored: (text) => sent.push(text),
    maskInput: (text) => text,
    onFailure: (error) => failures.push(error),
    captureKeyframe: (done) => asked.push(done),
  });
  return { sessionId, recorder, sent, failures, asked };
}

async function until(what: string, check: () => boolean, ms = 20_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function storedOutput(sessionId: string): Promise<string[]> {
  const { readSessionEvents } = await import("@/server/recording");
  const out: string[] = [];
  for await (const event of readSessionEvents(sessionId))
    if (event.type === "output") out.push(String(event.data.data));
  return out;
}

describe("the terminal recorder", () => {
  it("coalesces output that arrives during a write into events up to the cap, sent only as stored", async () => {
    const { MAX_OUTPUT_EVENT_CHARS } = await import("./recorder");
    const { sessionId, recorder, sent, failures } = await recording();
    // 400 chunks of 4 KB (what a pty hands sshd at a time) arrive while the first is being written.
    const chunks = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, "0")}${"x".repeat(4092)}`);
    for (const chunk of chunks) recorder.text("output", chunk);
    await recorder.drained();

    const stored = await storedOutput(sessionId);
    const perEvent = MAX_OUTPUT_EVENT_CHARS / 4096;
    expect(stored.map((s) => s.length)).toEqual([
      4096,
      ...Array.from({ length: Math.floor(399 / perEvent) }, () => MAX_OUTPUT_EVENT_CHARS),
      (399 % perEvent) * 4096,
    ]);
    expect(stored.join("")).toBe(chunks.join(""));
    // The browser got exactly the stored events, in order.
    expect(sent).toEqual(stored);
    expect(failures).toEqual([]);
  });

  it("writes every event waiting behind a write in one commit, each sent only once that commit is durable", async () => {
    const { groupCommitStats } = await import("@/server/recording");
    const { sessionId, recorder, sent, failures } = await recording();
    const chunks = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, "0")}${"y".repeat(4092)}`);
    const before = groupCommitStats();
    // The first chunk goes alone; the rest (several events, with `masked` markers between them) wait behind it.
    recorder.text("output", chunks[0] ?? "");
    for (const [i, chunk] of chunks.slice(1).entries()) recorder.text("output", chunk, i % 100 === 0 ? 1 : 0);
    const storedWhenFirstSent = new Promise<number>((resolve) => {
      const check = setInterval(() => {
        if (sent.length > 1) {
          clearInterval(check);
          resolve(sent.length);
        }
      }, 0);
    });
    await recorder.drained();
    const after = groupCommitStats();
    const stored = await storedOutput(sessionId);
    expect(stored.length).toBeGreaterThan(3);
    // two commits: the first event, then everything that queued behind it (outputs and markers together)
    expect(after.commits - before.commits).toBe(2);
    expect(after.writes - before.writes).toBe(stored.length + 4);
    // the events of the second commit reach the browser together, after it
    expect(await storedWhenFirstSent).toBe(stored.length);
    expect(sent).toEqual(stored);
    expect(failures).toEqual([]);
  });

  it("records and sends the output after a keyframe while the screen has not caught up, and replay places the keyframe by the output it follows", async () => {
    const { KEYFRAME_EVERY_CHARS } = await import("./keyframes");
    const { sessionId, recorder, sent, failures, asked } = await recordingWithSlowScreen();
    const chunks = Array.from(
      { length: 300 },
      (_, i) => `${String(i).padStart(5, "0")}${"k".repeat(4091)}\n`,
    );
    const all = chunks.join("");
    expect(all.length).toBeGreaterThan(2 * KEYFRAME_EVERY_CHARS);
    for (const chunk of chunks) {
      recorder.text("output", chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Every byte is stored and shown although no keyframe has its screen yet.
    await until("all output sent", () => sent.join("").length === all.length);
    expect(sent.join("")).toBe(all);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    asked[0]?.({ cols: 80, rows: 24, screen: "first keyframe" });
    for (const done of asked.slice(1)) done(undefined); // one taken mid-sequence: dropped, not written
    await recorder.drained();
    expect(failures).toEqual([]);

    const { readSessionEvents } = await import("@/server/recording");
    const events: { id: number; type: string; data: Record<string, unknown> }[] = [];
    for await (const e of readSessionEvents(sessionId)) events.push({ id: e.id, type: e.type, data: e.data });
    const keyframes = events.filter((e) => e.type === "keyframe");
    expect(keyframes).toHaveLength(1);
    const keyframe = keyframes[0]!;
    expect(keyframe.data.screen).toBe("first keyframe");
    const afterEventId = keyframe.data.afterEventId as number;
    // Written after later output, it names the output event that ends exactly at its offset.
    expect(events.findIndex((e) => e.id === afterEventId)).toBeLessThan(events.indexOf(keyframe) - 1);
    const outputThrough = events
      .filter((e) => e.type === "output" && e.id <= afterEventId)
      .map((e) => String(e.data.data))
      .join("");
    expect(outputThrough.length).toBe(keyframe.data.offset);
    expect(outputThrough.length).toBeGreaterThanOrEqual(KEYFRAME_EVERY_CHARS);

    // A seek to the keyframe starts from its screen and the output after its offset, not after its place.
    const { replayAt } = await import("./replay");
    const chunk = await replayAt(person, sessionId, Number(keyframe.data.t) + 0.001);
    expect(chunk.keyframe?.screen).toBe("first keyframe");
    const replayed = chunk.events.map((e) => (e.type === "output" ? e.data : "")).join("");
    expect(all.startsWith(outputThrough + replayed)).toBe(true);
    expect(replayed.length).toBeGreaterThan(0);
  });

  it.each([
    ["an older recording's keyframe (written in place, no afterEventId)", undefined],
    ["a keyframe naming an event after itself", 1e9],
    ["a keyframe naming no event id", "12"],
  ])("replays %s from its own place in the recording", async (_, afterEventId) => {
    const { startSession, appendSessionEvent } = await import("@/server/recording");
    const sessionId = await startSession(person, { id: "box", name: "box" }, "terminal", "terminal");
    await appendSessionEvent(sessionId, "output", { t: 0.1, data: "before " });
    await appendSessionEvent(sessionId, "keyframe", {
      t: 0.2,
      offset: 7,
      cols: 80,
      rows: 24,
      screen: "old",
      ...(afterEventId !== undefined && { afterEventId }),
    });
    await appendSessionEvent(sessionId, "output", { t: 0.3, data: "after" });
    const { replayAt } = await import("./replay");
    const chunk = await replayAt(person, sessionId, 0.25);
    expect(chunk.keyframe?.screen).toBe("old");
    expect(chunk.events.map((e) => (e.type === "output" ? e.data : ""))).toEqual(["after"]);
  });

  it("ends a recording whose store fails while a keyframe waits for the screen, and drops the keyframe", async () => {
    const { sessionId, recorder, sent, failures, asked } = await recordingWithSlowScreen();
    recorder.text("output", "x".repeat(600 * 1024));
    await until("the first output sent", () => sent.length === 1);
    expect(asked).toHaveLength(1);
    const { endSession } = await import("@/server/recording");
    const { getDb } = await import("@/db/store");
    const { sessions } = await import("@/db/schema");
    const { eq } = await import("drizzle-orm");
    await endSession(sessionId, "ended");
    await (await getDb()).delete(sessions).where(eq(sessions.id, sessionId));
    recorder.text("output", "after");
    await recorder.drained();
    expect(failures).toHaveLength(1);
    asked[0]?.({ cols: 80, rows: 24, screen: "late" });
    await recorder.drained();
    expect(sent).toHaveLength(1);
  });

  it("writes an idle echo alone, at once", async () => {
    const { sessionId, recorder, sent } = await recording();
    recorder.text("output", "l");
    await recorder.drained();
    recorder.text("output", "s");
    await recorder.drained();
    expect(await storedOutput(sessionId)).toEqual(["l", "s"]);
    expect(sent).toEqual(["l", "s"]);
  });

  it("sends nothing after a write the store refuses, and reports the failure", async () => {
    const { sessionId, recorder, sent, failures } = await recording();
    recorder.text("output", "first");
    await recorder.drained();
    const { endSession } = await import("@/server/recording");
    // The session row is gone from under the recorder: its next append has no chain head to extend.
    const { getDb } = await import("@/db/store");
    const { sessions } = await import("@/db/schema");
    const { eq } = await import("drizzle-orm");
    await endSession(sessionId, "ended");
    const db = await getDb();
    await db.delete(sessions).where(eq(sessions.id, sessionId));
    recorder.text("output", "second");
    recorder.text("output", "third");
    await recorder.drained();
    expect(sent).toEqual(["first"]);
    expect(failures).toHaveLength(1);
  });
});
