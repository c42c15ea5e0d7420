// Sessions lost with their console process, on a real PostgreSQL store with rows written as other processes
// would: a live native or terminal session whose owner stopped beating (or has no row, or ran on this machine under
// a PID that has exited) is shown ended in the list before any sweep, and the sweep closes it with one chained
// notice (the chain verifies); sessions of running processes, of this process, and sessions already ended are
// left alone; two replicas sweeping at once record one end per session.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";

let pg: PostgresServer;
let dataDir: string;

const admin: Principal = {
  id: "u-admin",
  email: "admin@example.com",
  name: "Admin",
  role: "admin",
  kind: "person",
  groups: [],
  via: "session",
};
const nia: Principal = { ...admin, id: "u-nia", email: "nia@example.com", name: "Nia", role: "member" };
const shop = { id: "c-shop", name: "shop" };

beforeAll(async () => {
  pg = await startPostgres();
  const storeUrl = await createDatabase(pg.url, "store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-liveness-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  const { stopHeartbeat } = await import("./sessions-liveness");
  stopHeartbeat();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A PID that existed and has exited (a child run to its end). */
function exitedPid(): number {
  const child = spawnSync("true");
  if (!child.pid) throw new Error("could not run true");
  return child.pid;
}

type OwnerKind = "stale" | "missing" | "exited here" | "fresh elsewhere" | "fresh here" | "this process";

/** A live native session (with its connect event) held by an owner of the given kind, as that process wrote it. */
async function heldSession(owner: OwnerKind, channel: "native" | "terminal" = "native"): Promise<string> {
  const { startSessionWithEvent, holdSession } = await import("./index");
  const { getDb } = await import("@/db/store");
  const { gatewayProcesses, sessions } = await import("@/db/schema");
  const { machineKey } = await import("./sessions-liveness");
  const { sessionId } = await startSessionWithEvent(
    nia,
    shop,
    channel === "native" ? "sql" : "terminal",
    channel,
    channel === "native"
      ? {
          type: "connect",
          data: { applicationName: "psql", clientAddress: "10.1.2.3", tls: true, user: "nia" },
        }
      : { type: "resize", data: { t: 0, cols: 80, rows: 24 } },
  );
  if (owner === "this process") {
    await holdSession(sessionId);
    return sessionId;
  }
  const db = await getDb();
  const processId = `process-${owner}-${sessionId.slice(0, 8)}`;
  const rows = {
    stale: { machine: "another-host pid:[1]", pid: 4242, ago: 300 },
    "exited here": { machine: machineKey(), pid: exitedPid(), ago: 1 },
    "fresh elsewhere": { machine: "another-host pid:[1]", pid: exitedPid(), ago: 1 },
    "fresh here": { machine: machineKey(), pid: process.pid, ago: 1 },
  } as const;
  if (owner !== "missing") {
    const row = rows[owner];
    await db.insert(gatewayProcesses).values({
      id: processId,
      machine: row.machine,
      pid: row.pid,
      heartbeatAt: sql`now() - make_interval(secs => ${row.ago})`,
    });
  }
  await db.update(sessions).set({ ownerProcess: processId }).where(eq(sessions.id, sessionId));
  return sessionId;
}

async function listed(sessionId: string) {
  const { parseSessionFilters, querySessions } = await import("./sessions-query");
  const page = await querySessions(admin, parseSessionFilters({}));
  return page.sessions.find((s) => s.id === sessionId);
}

async function events(sessionId: string) {
  const { getSessionWithEvents } = await import("./index");
  return (await getSessionWithEvents(sessionId))?.events ?? [];
}

describe("sessions lost with their console process", () => {
  it.each<[OwnerKind, boolean]>([
    ["stale", true],
    ["missing", true],
    ["exited here", true],
    ["fresh elsewhere", false],
    ["fresh here", false],
    ["this process", false],
  ])("a live native session whose owner is %s: lost %s", async (owner, isLost) => {
    const { sweepLostSessions } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const sessionId = await heldSession(owner);

    const before = await listed(sessionId);
    expect(before?.client).toEqual({ applicationName: "psql", address: "10.1.2.3" });
    // The heartbeat alone shows it ended in the list before any sweep; a dead PID needs the sweep's look.
    const isShownLostBeforeSweep = owner === "stale" || owner === "missing";
    expect(before?.state).toBe(isShownLostBeforeSweep ? "failed" : "live");
    expect(before?.endReason).toBe(isShownLostBeforeSweep ? "its gateway process stopped" : null);

    const ended = await sweepLostSessions();
    expect(ended.includes(sessionId)).toBe(isLost);
    const after = await listed(sessionId);
    expect(after?.state).toBe(isLost ? "failed" : "live");
    expect(after?.endReason).toBe(isLost ? "its gateway process stopped" : null);
    const recorded = await events(sessionId);
    expect(recorded.map((e) => e.type)).toEqual(isLost ? ["connect", "notice"] : ["connect"]);
    if (isLost) {
      expect(recorded[1]?.data).toMatchObject({ level: "error", lost: true });
      expect(String(recorded[1]?.data.message)).toMatch(/its gateway process stopped/);
    }
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: recorded.length });
    // Nothing is left for a second sweep (another replica).
    expect((await sweepLostSessions()).includes(sessionId)).toBe(false);
  });

  it("closes a lost terminal with a notice the player can place in time", async () => {
    const { sweepLostSessions } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const sessionId = await heldSession("stale", "terminal");
    expect(await sweepLostSessions()).toContain(sessionId);
    const recorded = await events(sessionId);
    expect(recorded.map((e) => e.type)).toEqual(["resize", "notice"]);
    expect(typeof recorded[1]?.data.t).toBe("number");
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 2 });
  });

  it("leaves a session that ended on its own alone, however stale its owner", async () => {
    const { endSession, sweepLostSessions } = await import("./index");
    const sessionId = await heldSession("stale");
    await endSession(sessionId);
    expect(await sweepLostSessions()).not.toContain(sessionId);
    expect((await events(sessionId)).map((e) => e.type)).toEqual(["connect"]);
    expect(await listed(sessionId)).toMatchObject({ state: "ended", endReason: null });
  });

  it("records one end per session when several replicas sweep at once", async () => {
    const { sweepLostSessions } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const lost = await Promise.all(Array.from({ length: 8 }, () => heldSession("stale")));
    const sweeps = await Promise.all([sweepLostSessions(), sweepLostSessions(), sweepLostSessions()]);
    const ended = sweeps.flat().filter((id) => lost.includes(id));
    expect(ended.sort()).toEqual([...lost].sort());
    for (const sessionId of lost) {
      expect((await events(sessionId)).map((e) => e.type)).toEqual(["connect", "notice"]);
      expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 2 });
    }
  });

  it("forgets the processes it found gone, and keeps this one beating", async () => {
    const { currentProcessId, sweepLostSessions } = await import("./index");
    const { getDb } = await import("@/db/store");
    const { gatewayProcesses } = await import("@/db/schema");
    const sessionId = await heldSession("stale");
    const fresh = await heldSession("fresh elsewhere");
    await sweepLostSessions();
    const db = await getDb();
    const rows = await db.select({ id: gatewayProcesses.id }).from(gatewayProcesses);
    const ids = rows.map((r) => r.id);
    expect(ids).toContain(currentProcessId());
    expect(ids).not.toContain(`process-stale-${sessionId.slice(0, 8)}`);
    expect(ids).toContain(`process-fresh elsewhere-${fresh.slice(0, 8)}`);
  });
});

describe("a session closed as lost while its process still holds it", () => {
  it("ends the client at this process's next heartbeat, once; live ones are left alone", async () => {
    const { startSessionWithEvent, holdSession } = await import("./index");
    const { writeHeartbeat } = await import("./sessions-liveness");
    const { getDb } = await import("@/db/store");
    const { sessions } = await import("@/db/schema");
    const start = () =>
      startSessionWithEvent(nia, shop, "sql", "native", {
        type: "connect",
        data: { applicationName: "psql" },
      });
    const { sessionId: cutOff } = await start();
    const { sessionId: stillLive } = await start();
    const ended: string[] = [];
    await holdSession(cutOff, () => ended.push(cutOff));
    await holdSession(stillLive, () => ended.push(stillLive));
    await writeHeartbeat();
    expect(ended).toEqual([]);
    // Another replica swept it while this process could not reach the store.
    const db = await getDb();
    await db.update(sessions).set({ state: "failed", endedAt: new Date() }).where(eq(sessions.id, cutOff));
    await writeHeartbeat();
    await writeHeartbeat();
    expect(ended).toEqual([cutOff]);
  });
});

describe("waiting for an end", () => {
  it("answers whether the session ended within the wait", async () => {
    const { endSession, waitForSessionEnd } = await import("./index");
    const sessionId = await heldSession("this process");
    expect(await waitForSessionEnd(sessionId, 300)).toBe(false);
    const waiting = waitForSessionEnd(sessionId, 30_000);
    await endSession(sessionId);
    expect(await waiting).toBe(true);
  });
});
