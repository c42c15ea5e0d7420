// A process whose embedded store runs in a worker thread (STORE_THREAD=worker) is killed with SIGKILL mid-appends
// (db/testing/append-until-killed.ts: 8 sessions recording statements and results through the recorder, group
// commit included). The worker dies with the process; every append the recorder had acknowledged is in the store
// after a restart, under its id, in its session, with its content, and every session's hash chain verifies.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";

/** acknowledged appends to wait for before the kill (the sessions keep appending past it) */
const BEFORE_KILL = 400;
const root = path.resolve(import.meta.dirname, "..");

let child: ChildProcess | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-store-thread-crash-"));

afterAll(async () => {
  child?.kill("SIGKILL");
  const { getStore } = await import("./store");
  await (await getStore().catch(() => undefined))?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Acknowledged {
  sessionId: string;
  eventId: number;
  n: number;
}

/** Runs the appender until BEFORE_KILL appends were acknowledged, kills it with SIGKILL, returns what it acknowledged. */
async function appendUntilKilled(): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  child = spawn(
    process.execPath,
    ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs", "db/testing/append-until-killed.ts"],
    {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", STORE_THREAD: "worker" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const running = child;
  let errors = "";
  running.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
  for await (const line of createInterface({ input: running.stdout as NodeJS.ReadableStream })) {
    const [word, sessionId, eventId, n] = line.split(" ");
    if (word !== "ack" || !sessionId) continue;
    acknowledged.push({ sessionId, eventId: Number(eventId), n: Number(n) });
    if (acknowledged.length === BEFORE_KILL) running.kill("SIGKILL");
  }
  await exited;
  if (running.signalCode !== "SIGKILL") throw new Error(`the appender stopped by itself: ${errors}`);
  return acknowledged;
}

describe("a process killed mid-appends, its store in a worker thread", () => {
  it("keeps every acknowledged append, and every chain verifies", async () => {
    const acknowledged = await appendUntilKilled();
    expect(acknowledged.length).toBeGreaterThanOrEqual(BEFORE_KILL);

    process.env.DATA_DIR = dataDir;
    const { installStore, openStore } = await import("./store");
    installStore(await openStore({ dataDir, thread: "worker" }));
    const { getSessionWithEvents } = await import("@/server/recording");
    const { verifySession } = await import("@/server/integrity");
    const sessionIds = [...new Set(acknowledged.map((a) => a.sessionId))];
    expect(sessionIds).toHaveLength(8);
    const missing: Acknowledged[] = [];
    for (const sessionId of sessionIds) {
      const events = new Map(((await getSessionWithEvents(sessionId))?.events ?? []).map((e) => [e.id, e]));
      for (const ack of acknowledged.filter((a) => a.sessionId === sessionId)) {
        const event = events.get(ack.eventId);
        const content = JSON.stringify(event?.data ?? null);
        if (!content.includes(`select ${ack.n}`) && !content.includes(`[[${ack.n}]]`)) missing.push(ack);
      }
      expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: events.size });
    }
    expect(missing).toEqual([]);
  }, 600_000);
});
