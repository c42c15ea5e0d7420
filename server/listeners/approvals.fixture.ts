// Test helpers for native clients' reviews (native-approvals.int.test.ts, review-notices.int.test.ts,
// copy-in.int.test.ts): a listener on a free loopback port, TLS with its generated certificate, plain text from
// loopback only; and psql kept open across steps.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { PgListener } from "./pg-listener";

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
