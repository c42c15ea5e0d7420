// Starts the built console as its own process (the same way `npm start` runs it) on a free port with a fresh
// DATA_DIR, waits until /api/health answers, and keeps its output in a log file that tests scan for secrets.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cleanupOnExit, getFreePort } from "../../test/harness/free-port";

export interface RunningConsole {
  url: string;
  port: number;
  dataDir: string;
  logFile: string;
  stop(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, "../..");

export async function startConsole(env: Record<string, string> = {}): Promise<RunningConsole> {
  const port = Number(env.PORT ?? (await getFreePort()));
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-e2e-"));
  const logFile = path.join(dataDir, "console.log");
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // e.g. CONSOLE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the console under a benchmark
      ...(process.env.CONSOLE_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      "--import",
      "./scripts/server-only-hook.mjs",
      "server.ts",
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        PORT: String(port),
        DATA_DIR: dataDir,
        NEXTAUTH_URL: `http://localhost:${port}`,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? -1;
  });
  const unregister = cleanupOnExit(() => child.kill("SIGKILL"));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (exited !== null) throw new Error(`the console exited with ${exited} during start-up; see ${logFile}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the console did not answer within 300 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    dataDir,
    logFile,
    async stop() {
      unregister();
      if (exited === null) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
        if (exited === null) child.kill("SIGKILL");
      }
      log.end();
      if (!process.env.KEEP_E2E_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
