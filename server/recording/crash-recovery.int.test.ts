// The recording survives a crash: the real console process (server.ts) runs SQL from concurrent API clients
// (each resuming its own session, so chains grow while the recorder groups their commits), is killed with SIGKILL
// mid-load, and is started again on the same DATA_DIR, on the embedded store and on an external PostgreSQL store.
// Every statement the console acknowledged (answered 200 with its result) is in the store with its result, each
// result names its statement, and every session's hash chain verifies. A request cut by the kill may or may not be
// recorded, but never half: the chain verifies either way.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleProcess, startConsoleProcess } from "@/test/harness/console-process";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";

const actor = { id: null, label: "test" };
const CLIENTS = 8;
/** acknowledged statements to wait for before the kill (the clients keep sending past it) */
const BEFORE_KILL = 160;

let pg: PostgresServer;
let dataDir: string;
let token: string;
let storeUrl: string;
let running: ConsoleProcess | undefined;

beforeAll(async () => {
  pg = await startPostgres();
  storeUrl = await createDatabase(pg.url, "store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-crash-"));
  process.env.DATA_DIR = dataDir;
  process.env.RATE_LIMIT_PER_MINUTE = "100000000";
  token = await provision(undefined);
}, 180_000);

afterAll(async () => {
  await running?.stop();
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Opens the store as the console will (embedded under DATA_DIR, or at `databaseUrl`) as this process's store. */
async function openAsProcessStore(databaseUrl: string | undefined) {
  const { installStore, openStore } = await import("@/db/store");
  const store = await openStore({ databaseUrl, dataDir });
  installStore(store);
  return store;
}

/** A group, the target connection and a service account on the store; returns the account's token. */
async function provision(databaseUrl: string | undefined, name = "bot") {
  const store = await openAsProcessStore(databaseUrl);
  try {
    const { createGroup, createServiceAccount } = await import("@/server/auth");
    const { createConnection } = await import("@/server/connections");
    await createGroup(actor, { name: "crew" });
    await createConnection(actor, {
      kind: "postgres",
      name: "target",
      host: pg.host,
      port: pg.port,
      database: "postgres",
      username: pg.user,
      password: pg.password,
      groups: ["crew"],
    });
    return (await createServiceAccount(actor, { name, groups: ["crew"] })).token;
  } finally {
    await store.close();
  }
}

interface Acknowledged {
  n: number;
  sessionId: string;
}

/** Concurrent clients, each in its own session, until the console stops answering; what it acknowledged. */
function driveUntilKilled(url: string, bearer: string, onAcknowledged: (count: number) => void) {
  const acknowledged: Acknowledged[] = [];
  let next = 1;
  const client = async () => {
    let sessionId: string | undefined;
    for (;;) {
      const n = next++;
      let response: Response;
      try {
        response = await fetch(`${url}/api/v1/connections/target/exec`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify({ input: `select ${n} as n`, ...(sessionId && { sessionId }) }),
        });
      } catch {
        return; // the console is gone
      }
      const body = (await response.json().catch(() => undefined)) as
        | { status?: string; sessionId?: string; rows?: unknown[][] }
        | undefined;
      if (response.status !== 200 || body?.status !== "done" || !body.sessionId) {
        // Anything else is not an acknowledgement; under the load before the kill, it is a failure to report.
        throw new Error(`exec answered ${response.status}: ${JSON.stringify(body)}`);
      }
      expect(body.rows).toEqual([[n]]);
      sessionId = body.sessionId;
      acknowledged.push({ n, sessionId });
      onAcknowledged(acknowledged.length);
    }
  };
  const done = Promise.all(Array.from({ length: CLIENTS }, client));
  return { acknowledged, done };
}

async function crashMidLoad(env: Record<string, string>, bearer: string) {
  running = await startConsoleProcess(dataDir, { RATE_LIMIT_PER_MINUTE: "100000000", ...env });
  const child = running.child;
  let killed = false;
  const { acknowledged, done } = driveUntilKilled(running.url, bearer, (count) => {
    if (count >= BEFORE_KILL && !killed) {
      killed = true;
      child.kill("SIGKILL");
    }
  });
  await done.catch(async (err) => {
    child.kill("SIGKILL");
    throw err;
  });
  expect(killed).toBe(true);
  await new Promise((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve(null) : child.once("exit", resolve),
  );
  expect(child.signalCode).toBe("SIGKILL");
  // Started again on the same DATA_DIR (and store): it recovers and answers, in an acknowledged session too.
  running = await startConsoleProcess(dataDir, { RATE_LIMIT_PER_MINUTE: "100000000", ...env });
  const again = await fetch(`${running.url}/api/v1/connections/target/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify({ input: "select 0 as n", sessionId: acknowledged[0]?.sessionId }),
  });
  expect(again.status).toBe(200);
  await running.stop();
  running = undefined;
  return acknowledged;
}

async function expectAllRecorded(databaseUrl: string | undefined, acknowledged: Acknowledged[]) {
  const store = await openAsProcessStore(databaseUrl);
  try {
    const { getSessionWithEvents } = await import("@/server/recording");
    const { verifySession } = await import("@/server/integrity");
    const sessionIds = [...new Set(acknowledged.map((a) => a.sessionId))];
    expect(sessionIds.length).toBe(CLIENTS);
    let missing = 0;
    for (const sessionId of sessionIds) {
      const recorded = await getSessionWithEvents(sessionId);
      const events = recorded?.events ?? [];
      const statements = new Map(
        events.filter((e) => e.type === "statement").map((e) => [String(e.data.input), e.id]),
      );
      const results = new Map(
        events.filter((e) => e.type === "result").map((e) => [Number(e.data.statementEventId), e.data]),
      );
      for (const { n } of acknowledged.filter((a) => a.sessionId === sessionId)) {
        const statementId = statements.get(`select ${n} as n`);
        const result = statementId === undefined ? undefined : results.get(statementId);
        if (result?.status !== "done" || !JSON.stringify(result.results).includes(`[[${n}]]`)) missing++;
      }
      expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: events.length });
    }
    expect(missing).toBe(0);
  } finally {
    await store.close();
  }
}

describe("a console killed mid-load keeps every acknowledged statement and result", () => {
  it("on the embedded store", async () => {
    const acknowledged = await crashMidLoad({}, token);
    expect(acknowledged.length).toBeGreaterThanOrEqual(BEFORE_KILL);
    await expectAllRecorded(undefined, acknowledged);
  }, 600_000);

  it("on an external PostgreSQL store", async () => {
    const bearer = await provision(storeUrl);
    const acknowledged = await crashMidLoad({ DATABASE_URL: storeUrl }, bearer);
    expect(acknowledged.length).toBeGreaterThanOrEqual(BEFORE_KILL);
    await expectAllRecorded(storeUrl, acknowledged);
  }, 600_000);
});
