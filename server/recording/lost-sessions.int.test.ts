// A console process killed with SIGKILL while psql is connected through its PostgreSQL listener and a browser
// terminal is open on its /ws/terminal: nothing in it can record the ends, so both sessions stay "live" in the
// store. Started again on the same DATA_DIR (the embedded store) or the same external PostgreSQL store, the console
// finds the sessions' owner gone (the embedded store is one process's; on a shared store the owner ran on this
// machine under a PID that has exited) and ends each with a chained notice: the list shows them ended, "its
// gateway process stopped", and their chains verify. psql and the terminal see their connections drop at the
// kill. Real console processes (server.ts), real psql, a real sshd and PostgreSQL targets.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { addTestBox } from "@/server/terminal/terminal-fixtures";
import { type ConsoleProcess, startConsoleProcess } from "@/test/harness/console-process";
import { getFreePort } from "@/test/harness/free-port";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import { type SshdServer, startSshd } from "@/test/harness/sshd";

const actor = { id: null, label: "test" };

let pg: PostgresServer;
let sshd: SshdServer;
let storeUrl: string;
let running: ConsoleProcess | undefined;
let psql: ChildProcessWithoutNullStreams | undefined;
/** One DATA_DIR for both runs: its master key encrypts the target's password in either store. */
let dataDir: string;

beforeAll(async () => {
  [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
  storeUrl = await createDatabase(pg.url, "store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-lost-"));
}, 180_000);

afterAll(async () => {
  psql?.kill("SIGKILL");
  await running?.stop();
  await pg?.stop();
  await sshd?.stop();
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
    // A person with a terminal on the SSH connection "box", signed in (the console's own session cookie).
    const { createUser } = await import("@/server/auth");
    const { currentSessionEpoch } = await import("@/server/auth/sessions");
    const { getConfig } = await import("@/server/config");
    const opId = await createUser(actor, {
      email: "op@example.com",
      password: "operator-password-1",
      groups: ["crew"],
    });
    await addTestBox(sshd, "crew");
    const jwt = await encode({
      token: { uid: opId, epoch: await currentSessionEpoch(opId) },
      secret: getConfig().authSecret,
    });
    return { botToken: bot.token, auditorToken: auditor.token, cookie: `next-auth.session-token=${jwt}` };
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

async function listSessions(url: string, token: string, channel: "native" | "terminal"): Promise<Listed[]> {
  const response = await fetch(`${url}/api/v1/sessions?channel=${channel}`, {
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

async function killLeavesSessionsLive(databaseUrl: string | undefined) {
  const { botToken, auditorToken, cookie } = await provision(databaseUrl);
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
  const native = await eventually(
    () => `the psql session, live (psql said: ${output})`,
    async () => (await listSessions(first.url, auditorToken, "native")).find((s) => s.state === "live"),
  );
  expect(native.client).toEqual({ applicationName: "lost-psql", address: "127.0.0.1" });

  // A browser terminal on the same process, with a line run in it.
  const ws = new WebSocket(`${first.url.replace("http", "ws")}/ws/terminal?connection=box&cols=80&rows=24`, {
    headers: { cookie },
  });
  let screen = "";
  ws.on("message", (data, isBinary) => {
    if (isBinary) screen += Buffer.from(data as Buffer).toString("utf8");
  });
  ws.on("error", () => {});
  const wsClosed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) =>
      reject(new Error(`the terminal socket answered ${res.statusCode}`)),
    );
  });
  ws.send(JSON.stringify({ type: "input", data: "echo lost-$((40 + 2))\r" }));
  await eventually(
    () => `the terminal's output (so far: ${JSON.stringify(screen)})`,
    async () => (screen.includes("lost-42") ? true : undefined),
  );
  const terminal = await eventually(
    () => "the terminal session, live",
    async () => (await listSessions(first.url, auditorToken, "terminal")).find((s) => s.state === "live"),
  );

  first.child.kill("SIGKILL");
  await new Promise((resolve) =>
    first.child.exitCode !== null || first.child.signalCode
      ? resolve(null)
      : first.child.once("exit", resolve),
  );
  expect(first.child.signalCode).toBe("SIGKILL");
  running = undefined;
  // The clients' server is gone: the terminal's socket closes; psql's next statement finds the connection
  // closed, and psql ends at the end of its input.
  await wsClosed;
  psql.stdin.write("select 1;\n");
  psql.stdin.end();
  await psqlExited;
  expect(output).toMatch(
    /server closed the connection unexpectedly|connection to server .* lost|no connection/i,
  );

  // Started again on the same store: the sessions end, recorded, without anyone touching them.
  running = await startConsoleProcess(dataDir, env);
  const second = running;
  for (const [channel, lost] of [
    ["native", native],
    ["terminal", terminal],
  ] as const) {
    const ended = await eventually(
      () => `the lost ${channel} session, ended`,
      async () =>
        (await listSessions(second.url, auditorToken, channel)).find(
          (s) => s.id === lost.id && s.state !== "live",
        ),
    );
    expect(ended).toMatchObject({ state: "failed", endReason: "its gateway process stopped" });
    const session = await fetch(`${second.url}/api/v1/sessions/${lost.id}`, {
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    const body = (await session.json()) as { events: { type: string; data: Record<string, unknown> }[] };
    // One end recorded, even where the terminals' own sweep (server/terminal/presence.ts) also ran.
    expect(body.events.filter((e) => e.type === "notice" && e.data.lost === true)).toHaveLength(1);
    const verify = await fetch(`${second.url}/api/v1/sessions/${lost.id}/verify`, {
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    expect(await verify.json()).toMatchObject({ ok: true, events: body.events.length });
  }
  await second.stop();
  running = undefined;
}

describe("native and terminal sessions whose console process was killed", () => {
  it("are ended and verify after a restart on the embedded store", async () => {
    await killLeavesSessionsLive(undefined);
  }, 600_000);

  it("are ended and verify after a restart on an external PostgreSQL store", async () => {
    await killLeavesSessionsLive(storeUrl);
  }, 600_000);
});
