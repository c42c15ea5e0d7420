// A console process killed with SIGKILL while psql is connected through its PostgreSQL listener: nothing in it can
// record the end, so its native session stays "live" in the store. Started again on the same DATA_DIR (the
// embedded store) or the same external PostgreSQL store, the console finds the session's owner gone (the embedded
// store is one process's; on a shared store the owner ran on this machine under a PID that has exited) and ends the
// session with a chained notice: the list shows it ended, "its gateway process stopped", and its chain verifies.
// psql itself sees its connection drop at the kill. Real console processes (server.ts), real psql, real targets.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleProcess, startConsoleProcess } from "@/test/harness/console-process";
import { getFreePort } from "@/test/harness/free-port";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";

const actor = { id: null, label: "test" };

let pg: PostgresServer;
let storeUrl: string;
let running: ConsoleProcess | undefined;
let psql: ChildProcessWithoutNullStreams | undefined;
/** One DATA_DIR for both runs: its master key encrypts the target's password in either store. */
let dataDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  storeUrl = await createDatabase(pg.url, "store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-lost-"));
}, 180_000);

afterAll(async () => {
  psql?.kill("SIGKILL");
  await running?.stop();
  await pg?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Opens the store as the console will (embedded under dataDir, or at databaseUrl) as this process's store. */
async function openAsProcessStore(databaseUrl: string | undefined) {
  process.env.DATA_DIR = dataDir;
  const { installStore, openStore } = await import("@/db/store");
  const store = await openStore({ databaseUrl, dataDir });
  installStore(store);
  return store;
}

/** The target connection, a service account that may use it (psql's user) and an auditor that reads the list. */
async function provision(databaseUrl: string | undefined) {
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
    const bot = await createServiceAccount(actor, { name: "lost-bot", groups: ["crew"] });
    const auditor = await createServiceAccount(actor, { name: "lost-auditor", role: "auditor" });
    return { botToken: bot.token, auditorToken: auditor.token };
  } finally {
    await store.close();
  }
}

interface Listed {
  id: string;
  state: string;
  channel: string;
  endReason: string | null;
  client: { applicationName: string; address: string } | null;
}

async function nativeSessions(url: string, token: string): Promise<Listed[]> {
  const response = await fetch(`${url}/api/v1/sessions?channel=native`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { sessions: Listed[] }).sessions;
}

/** Polls until `pick` finds what it looks for (the console works in the background), or fails after 60 s. */
async function eventually<T>(what: () => string, pick: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await pick();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function killLeavesSessionLive(databaseUrl: string | undefined) {
  const { botToken, auditorToken } = await provision(databaseUrl);
  const listenPort = await getFreePort();
  const env = {
    PG_LISTEN_PORT: String(listenPort),
    PG_LISTEN_HOST: "127.0.0.1",
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
  };
  running = await startConsoleProcess(dataDir, env);
  const first = running;

  psql = spawn(
    "psql",
    [
      "-X",
      "-v",
      "ON_ERROR_STOP=0",
      `host=127.0.0.1 port=${listenPort} dbname=target user=lost-bot sslmode=disable`,
    ],
    { env: { ...process.env, PGPASSWORD: botToken, PGAPPNAME: "lost-psql" } },
  );
  let output = "";
  psql.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  psql.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const psqlExited = new Promise<void>((resolve) => psql?.once("exit", () => resolve()));
  psql.stdin.write("select 40 + 2 as answer;\n");

  const live = await eventually(
    () => `the psql session, live (psql said: ${output})`,
    async () => (await nativeSessions(first.url, auditorToken)).find((s) => s.state === "live"),
  );
  expect(live.client).toEqual({ applicationName: "lost-psql", address: "127.0.0.1" });

  first.child.kill("SIGKILL");
  await new Promise((resolve) =>
    first.child.exitCode !== null || first.child.signalCode
      ? resolve(null)
      : first.child.once("exit", resolve),
  );
  expect(first.child.signalCode).toBe("SIGKILL");
  running = undefined;
  // psql's server is gone: its next statement finds the connection closed, and it ends at end of input.
  psql.stdin.write("select 1;\n");
  psql.stdin.end();
  await psqlExited;
  expect(output).toMatch(
    /server closed the connection unexpectedly|connection to server .* lost|no connection/i,
  );

  // Started again on the same store: the session ends, recorded, without anyone touching it.
  running = await startConsoleProcess(dataDir, env);
  const second = running;
  const ended = await eventually(
    () => "the lost session, ended",
    async () =>
      (await nativeSessions(second.url, auditorToken)).find((s) => s.id === live.id && s.state !== "live"),
  );
  expect(ended).toMatchObject({ state: "failed", endReason: "its gateway process stopped" });
  const session = await fetch(`${second.url}/api/v1/sessions/${live.id}`, {
    headers: { authorization: `Bearer ${auditorToken}` },
  });
  const body = (await session.json()) as { events: { type: string; data: Record<string, unknown> }[] };
  expect(body.events.at(-1)).toMatchObject({ type: "notice", data: { lost: true, level: "error" } });
  const verify = await fetch(`${second.url}/api/v1/sessions/${live.id}/verify`, {
    headers: { authorization: `Bearer ${auditorToken}` },
  });
  expect(await verify.json()).toMatchObject({ ok: true, events: body.events.length });
  await second.stop();
  running = undefined;
}

describe("a native session whose console process was killed", () => {
  it("is ended and verifies after a restart on the embedded store", async () => {
    await killLeavesSessionLive(undefined);
  }, 600_000);

  it("is ended and verifies after a restart on an external PostgreSQL store", async () => {
    await killLeavesSessionLive(storeUrl);
  }, 600_000);
});
