// Test helpers for native clients (native-approvals, review-notices, copy-in, drivers .int.test.ts): a group and
// a connection to a real target database; a listener on a free
// loopback port, TLS with its generated certificate, plain text from loopback only; and psql kept open across
// steps.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import type { PostgresServer } from "@/test/harness/postgres";
import type { PgListener } from "./pg-listener";

const actor = { id: null, label: "test" };

/**
 * Creates `group` and a connection named `name` to `database` on `server` under its own credentials, usable by
 * that group (the test has pointed DATABASE_URL and DATA_DIR at its store and data directory first).
 */
export async function prepareGateway(options: {
  server: PostgresServer;
  name: string;
  database: string;
  group: string;
}): Promise<void> {
  const { createGroup } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(actor, { name: options.group });
  await createConnection(actor, {
    kind: "postgres",
    name: options.name,
    host: options.server.host,
    port: options.server.port,
    database: options.database,
    username: options.server.user,
    password: options.server.password,
    groups: [options.group],
  });
}

/** Stops what prepareGateway and a listener started: the listener, target pools, the store, the server. */
export async function stopGateway(
  listener: PgListener | undefined,
  server: PostgresServer | undefined,
  dataDir?: string,
) {
  await listener?.close();
  const { closeAllPools } = await import("@/server/targets/postgres");
  await closeAllPools();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

export async function startLoopbackListener(dataDir: string, publicUrl: string): Promise<PgListener> {
  const { startPgListener } = await import("./pg-listener");
  return startPgListener({
    config: {
      port: 0,
      host: "127.0.0.1",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: undefined,
    },
    dataDir,
    publicUrl,
  });
}

/**
 * psql kept open across steps (one connection): each step's input, then an \\echo marker; its stdout and stderr
 * returned once the marker came back.
 */
export function interactivePsql(conninfo: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcessWithoutNullStreams = spawn("psql", [conninfo, "-X", "-v", "VERBOSITY=verbose"], {
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let step = 0;
  return {
    async send(input: string) {
      const marker = `step-done-${++step}`;
      const [outFrom, errFrom] = [stdout.length, stderr.length];
      child.stdin.write(`${input}\n\\echo ${marker}\n`);
      while (!stdout.includes(marker)) {
        if (child.exitCode !== null) throw new Error(`psql ended: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { stdout: stdout.slice(outFrom).replace(`${marker}\n`, ""), stderr: stderr.slice(errFrom) };
    },
    async end() {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    },
  };
}
