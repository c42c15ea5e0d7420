// The console as its own process, as `npm run dev` runs it (server.ts --dev: no build needed, so integration
// tests can run before `next build`), on a free port with the embedded store in the DATA_DIR given. Its
// stdout and stderr are pipes the test holds (and may close); the admin command line runs against it.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { cleanupOnExit, getFreePort } from "./free-port";

const root = path.resolve(import.meta.dirname, "../..");
const NODE_ARGS = ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs"];

export interface ConsoleProcess {
  url: string;
  child: ChildProcess;
  /** what it wrote to stdout and stderr while the pipes were open */
  output(): string;
  stop(): Promise<void>;
}

function consoleEnv(dataDir: string, port: number, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: "development",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    DATA_DIR: dataDir,
    DATABASE_URL: "",
    DEMO_TARGET: "off",
    NEXTAUTH_URL: `http://localhost:${port}`,
    ...env,
  };
}

/** Runs the console until it exits (for start-up refusals); its exit code and output. */
export async function runConsoleUntilExit(
  dataDir: string,
  timeoutMs = 60_000,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const port = await getFreePort();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, "server.ts", "--dev"],
      { cwd: root, env: consoleEnv(dataDir, port, env), timeout: timeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, output: stdout + stderr });
      },
    );
  });
}

export async function startConsoleProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ConsoleProcess> {
  const port = await getFreePort();
  const child = spawn(process.execPath, [...NODE_ARGS, "server.ts", "--dev"], {
    cwd: root,
    env: consoleEnv(dataDir, port, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const unregister = cleanupOnExit(() => child.kill("SIGKILL"));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the console exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(30_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the console did not answer within 180 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      unregister();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Runs `npm run admin -- ARGS` against DATA_DIR (the running console's socket when it is up). */
export function runAdmin(
  dataDir: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_ARGS, "scripts/admin.ts", ...args],
      {
        cwd: root,
        env: { ...process.env, NODE_ENV: "production", DATA_DIR: dataDir, DATABASE_URL: "" },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
