/**
 * Terminal replay at scale, keyframes against replaying from the start (the asciinema approach), same run:
 *  1. builds a 2-hour recording with 200 MB of output in the store, through the real recorder (recorder.ts)
 *     and the gateway's screen emulation with keyframes, on a simulated clock: bursts of prompts, listings,
 *     logs, coloured build output, `cat`s of big files and full-screen redraws, with idle gaps between;
 *  2. times seeks to 20 random points: the replay API (nearest keyframe + the output after it) against
 *     writing all output up to the point into a fresh terminal (output loaded once beforehand, as a player
 *     that downloaded the whole file). Both end in a headless xterm, whose screens must be equal;
 *  3. measures the process's RSS and heap while the recorder takes a 50 MB `cat` (fed directly to the
 *     recorder and the screen emulation, as a terminal session does; no sshd).
 * Store: embedded PGlite in a temporary directory, or PostgreSQL with DATABASE_URL.
 * Usage: npm run bench:replay [-- --megabytes 200 --hours 2 --seeks 20 --cat-megabytes 50]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import xtermHeadless from "@xterm/headless";

const { values } = parseArgs({
  options: {
    megabytes: { type: "string", default: "200" },
    hours: { type: "string", default: "2" },
    seeks: { type: "string", default: "20" },
    "cat-megabytes": { type: "string", default: "50" },
  },
});
const TOTAL_CHARS = Number(values.megabytes) * 1024 * 1024;
const DURATION_MS = Number(values.hours) * 3600 * 1000;
const SEEKS = Number(values.seeks);
const CAT_CHARS = Number(values["cat-megabytes"]) * 1024 * 1024;
const COLS = 120;
const ROWS = 40;

const { Terminal } = xtermHeadless;
type Screen = InstanceType<typeof Terminal>;

const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-replay-"));
if (!process.env.DATABASE_URL) process.env.DATA_DIR = dataDir;

const { startSession, endSession, appendSessionEvent } = await import("@/server/recording");
const { Recorder } = await import("@/server/terminal/recorder");
const { keyframeCapturer, isParserIdle } = await import("@/server/terminal/keyframes");
const { replayAt, replayTimeline, screenEventsAfter } = await import("@/server/terminal/replay");
const { getStore } = await import("@/db/store");
type Principal = import("@/server/principal").Principal;

const auditor: Principal = {
  id: "bench-auditor",
  email: "auditor@example.com",
  name: "auditor",
  role: "admin",
  kind: "person",
  groups: [],
  via: "session",
};

/** Deterministic pseudo-random numbers, so every run builds the same recording. */
let seed = 20261123;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;

const written = (term: Screen, data: string) => new Promise<void>((resolve) => term.write(data, resolve));

function screenText(term: Screen): string {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.baseY + y)?.translateToString() ?? "");
  return lines.join("\n");
}

const COMMANDS = ["ls -l", "tail -n 2000 /var/log/app.log", "top", "cat data.txt"];

/** One burst of output a person's shell might show: a prompt, the command's echo and its output. */
function burst(): string {
  const prompt = "\r\n\u001b[1;32mops@web-1\u001b[0m:\u001b[1;34m~/app\u001b[0m$ ";
  const kind = random();
  if (kind < 0.35) {
    const lines = Array.from(
      { length: 5 + Math.floor(random() * 60) },
      (_, i) =>
        `-rw-r--r-- 1 ops ops ${String(Math.floor(random() * 1e6)).padStart(8)} Nov 23 12:${String(i % 60).padStart(2, "0")} \u001b[0${pick(["1;34", "1;32", "0"])}mfile-${i}.log\u001b[0m`,
    );
    return `${prompt}ls -l\r\n${lines.join("\r\n")}`;
  }
  if (kind < 0.6) {
    const lines = Array.from(
      { length: 50 + Math.floor(random() * 2000) },
      (_, i) =>
        `2026-11-23T12:00:${String(i % 60).padStart(2, "0")}Z ${pick(["INFO ", "\u001b[33mWARN\u001b[0m ", "\u001b[31mERROR\u001b[0m"])} request ${Math.floor(random() * 1e9)} handled in ${Math.floor(random() * 900)} ms`,
    );
    return `${prompt}tail -n 2000 /var/log/app.log\r\n${lines.join("\r\n")}`;
  }
  if (kind < 0.75) {
    // A full-screen program: the alternate screen, redraws with cursor moves, then back.
    let text = `${prompt}top\u001b[?1049h\u001b[H\u001b[2J`;
    for (let frame = 0; frame < 20; frame++) {
      text += "\u001b[H\u001b[7m top - load average: 0.42 \u001b[0m\u001b[K";
      for (let row = 2; row < ROWS; row++) {
        text += `\u001b[${row};1H${String(1000 + row).padEnd(8)}ops  ${(random() * 100).toFixed(1).padStart(5)}  node server.js\u001b[K`;
      }
    }
    return `${text}\u001b[?1049l`;
  }
  // A big file.
  const size = 200_000 + Math.floor(random() * 3_000_000);
  const line = "The quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet 0123456789\r\n";
  return `${prompt}cat data.txt\r\n${line.repeat(Math.ceil(size / line.length))}`;
}

/** Feeds output like a terminal session: into the screen, then the recorder (with its back-pressure). */
async function feed(term: Screen, recorder: InstanceType<typeof Recorder>, text: string) {
  for (let i = 0; i < text.length; i += 16 * 1024) {
    const piece = text.slice(i, i + 16 * 1024);
    term.write(piece);
    recorder.text("output", piece);
    if (recorder.pendingChars > 1_000_000) await recorder.drained();
  }
}

function recorderFor(sessionId: string, term: Screen, clock: { ms: number }) {
  const serialize = keyframeCapturer(term);
  return new Recorder(sessionId, 0, {
    onOutputStored: () => {},
    maskInput: (text) => text,
    onFailure: (error) => {
      throw error;
    },
    captureKeyframe: (done) => term.write("", () => done(isParserIdle(term) ? serialize() : undefined)),
    clock: () => clock.ms,
  });
}

async function buildRecording(): Promise<string> {
  const sessionId = await startSession(auditor, { id: "bench", name: "bench-box" }, "terminal", "terminal");
  await appendSessionEvent(sessionId, "resize", { t: 0, cols: COLS, rows: ROWS });
  const term = new Terminal({ cols: COLS, rows: ROWS, scrollback: 1000, allowProposedApi: true });
  const clock = { ms: 0 };
  const recorder = recorderFor(sessionId, term, clock);
  let chars = 0;
  const started = performance.now();
  while (chars < TOTAL_CHARS) {
    const text = burst();
    // Time moves with the output's share of the total (2 hours for all of it), after an idle gap of its own.
    clock.ms = Math.min(
      DURATION_MS,
      Math.max(clock.ms + random() * 5000, (chars / TOTAL_CHARS) * DURATION_MS),
    );
    const isBlocked = random() < 0.02;
    await recorder.event("command", {
      command: isBlocked ? "shutdown -h now" : pick(COMMANDS),
      isHidden: false,
      decision: isBlocked ? "deny" : "allow",
      reasons: [],
    });
    await feed(term, recorder, text);
    // Between bursts the person reads and types: the recorder catches up.
    await recorder.drained();
    chars += text.length;
  }
  clock.ms = DURATION_MS;
  await feed(term, recorder, "\r\nops@web-1:~/app$ exit\r\n");
  await recorder.drained();
  await endSession(sessionId);
  term.dispose();
  const seconds = (performance.now() - started) / 1000;
  console.log(`built: ${(chars / 1048576).toFixed(0)} MB over ${values.hours} h in ${seconds.toFixed(1)} s`);
  return sessionId;
}

/** The whole recording's output and size changes, loaded once (what a replay-from-start player downloads). */
async function loadAll(sessionId: string) {
  const events: { t: number; type: string; data: Record<string, unknown> }[] = [];
  let cursor = 0;
  for (;;) {
    const rows = await screenEventsAfter(sessionId, cursor, 500);
    for (const r of rows) events.push({ t: Number(r.data.t), type: r.type, data: r.data });
    if (rows.length < 500) return events;
    cursor = rows.at(-1)?.id ?? cursor;
  }
}

async function seekFromStart(events: Awaited<ReturnType<typeof loadAll>>, at: number): Promise<string> {
  const term = new Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  let queued = 0;
  for (const e of events) {
    if (e.t > at) break;
    if (e.type === "output") {
      const data = String(e.data.data);
      term.write(data);
      queued += data.length;
      // xterm drops writes beyond 50 MB waiting to be parsed: let it catch up.
      if (queued > 4 * 1024 * 1024) {
        await written(term, "");
        queued = 0;
      }
    } else {
      await written(term, "");
      term.resize(Number(e.data.cols), Number(e.data.rows));
    }
  }
  await written(term, "");
  const text = screenText(term);
  term.dispose();
  return text;
}

async function seekWithKeyframe(sessionId: string, at: number): Promise<string> {
  const chunk = await replayAt(auditor, sessionId, at);
  const size = chunk.keyframe ?? chunk;
  const term = new Terminal({ cols: size.cols, rows: size.rows, allowProposedApi: true });
  if (chunk.keyframe) term.write(chunk.keyframe.screen);
  for (const e of chunk.events) {
    if (e.t > at) break;
    if (e.type === "output") term.write(e.data);
    else {
      await written(term, "");
      term.resize(e.cols, e.rows);
    }
  }
  await written(term, "");
  const text = screenText(term);
  term.dispose();
  return text;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

async function benchSeeks(sessionId: string) {
  const timeline = await replayTimeline(auditor, sessionId);
  console.log(
    `recording: ${timeline.duration.toFixed(0)} s, ${timeline.keyframes.length} keyframes, ${timeline.markers.length} markers`,
  );
  let started = performance.now();
  const all = await loadAll(sessionId);
  const loadMs = performance.now() - started;
  const points = Array.from({ length: SEEKS }, () => random() * timeline.duration);
  const withKeyframes: number[] = [];
  const fromStart: number[] = [];
  let mismatches = 0;
  for (const at of points) {
    started = performance.now();
    const keyed = await seekWithKeyframe(sessionId, at);
    withKeyframes.push(performance.now() - started);
    started = performance.now();
    const full = await seekFromStart(all, at);
    fromStart.push(performance.now() - started);
    if (keyed !== full) mismatches++;
  }
  const k = median(withKeyframes);
  const f = median(fromStart);
  console.log(`load the whole recording once (replay from start needs it): ${(loadMs / 1000).toFixed(1)} s`);
  console.log(
    `seek, ${SEEKS} random points: keyframes p50 ${k.toFixed(0)} ms, max ${Math.max(...withKeyframes).toFixed(0)} ms; ` +
      `from start p50 ${f.toFixed(0)} ms, max ${Math.max(...fromStart).toFixed(0)} ms; ratio ${(f / k).toFixed(0)}x`,
  );
  console.log(`screens equal: ${SEEKS - mismatches} of ${SEEKS}`);
  return mismatches;
}

async function benchRecorderMemory() {
  global.gc?.();
  const sessionId = await startSession(auditor, { id: "bench", name: "bench-box" }, "terminal", "terminal");
  const term = new Terminal({ cols: COLS, rows: ROWS, scrollback: 1000, allowProposedApi: true });
  const clock = { ms: 0 };
  const recorder = recorderFor(sessionId, term, clock);
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  const line = "a plain log line with some words and numbers 1234567890 abcdefghijklmnopqrstuvwxyz\r\n";
  const started = performance.now();
  const chunk = line.repeat(Math.ceil((64 * 1024) / line.length));
  for (let sent = 0; sent < CAT_CHARS; sent += chunk.length) {
    clock.ms += 2;
    await feed(term, recorder, chunk);
  }
  await recorder.drained();
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  // What the recorder still holds once it is drained (before collection, garbage inflates the heap).
  global.gc?.();
  const after = process.memoryUsage();
  console.log(
    `recorder, ${values["cat-megabytes"]} MB cat fed directly: ${seconds.toFixed(1)} s; RSS ${mb(before.rss)} -> peak ${mb(peakRss)} -> ${mb(after.rss)}; ` +
      `heap ${mb(before.heapUsed)} -> peak ${mb(peakHeap)} -> ${mb(after.heapUsed)} after GC`,
  );
  const { keyframes } = await replayTimeline(auditor, sessionId);
  console.log(`  keyframes written: ${keyframes.length}`);
  term.dispose();
}

try {
  await benchRecorderMemory();
  const sessionId = await buildRecording();
  const mismatches = await benchSeeks(sessionId);
  if (mismatches > 0) process.exitCode = 1;
} finally {
  await (await getStore()).close();
  rmSync(dataDir, { recursive: true, force: true });
}
