/**
 * Logging never takes the console down. When whatever reads the process's stdout or stderr goes away (a
 * supervisor restarted, a pipe closed), a write fails with EPIPE; unhandled, that error is itself logged, which
 * fails again, and the process spins at full CPU and stops answering. Here the first write error on a stream
 * turns that stream's writes into appends to a private file in DATA_DIR (`portcullis.log`, mode 0600, at most
 * 64 MiB, then dropped), and the console keeps serving. Not responsible for what is logged or its format.
 */
import "server-only";
import { openSync, writeSync } from "node:fs";
import path from "node:path";

export const FALLBACK_LOG_FILE = "portcullis.log";
const FALLBACK_LOG_BYTES = 64 * 1024 * 1024;

type Write = NodeJS.WriteStream["write"];

/**
 * Guards process.stdout and process.stderr. `dataDir` is asked for the fallback file's folder when a stream
 * first fails (undefined, or a folder that cannot be written: the lines are dropped instead).
 */
export function keepLoggingSafe(dataDir: () => string | undefined) {
  let fallback: { fd: number; written: number } | null | undefined;
  const openFallback = () => {
    if (fallback !== undefined) return fallback;
    try {
      const dir = dataDir();
      fallback = dir ? { fd: openSync(path.join(dir, FALLBACK_LOG_FILE), "a", 0o600), written: 0 } : null;
    } catch {
      fallback = null;
    }
    return fallback;
  };
  const append = (text: string | Uint8Array) => {
    const file = openFallback();
    if (!file || file.written >= FALLBACK_LOG_BYTES) return;
    try {
      const bytes = typeof text === "string" ? Buffer.from(text) : text;
      file.written += writeSync(file.fd, bytes);
      if (file.written >= FALLBACK_LOG_BYTES)
        writeSync(file.fd, "[portcullis] this file reached 64 MiB: later log lines are dropped\n");
    } catch {
      // The disk refuses too: the line is dropped, the console keeps serving.
    }
  };

  for (const [name, stream] of [
    ["stdout", process.stdout],
    ["stderr", process.stderr],
  ] as const) {
    let isBroken = false;
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (isBroken) return;
      isBroken = true;
      const redirected: Write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
        append(chunk);
        const callback = rest.find((arg): arg is (err?: Error | null) => void => typeof arg === "function");
        if (callback) process.nextTick(callback);
        return true;
      };
      stream.write = redirected;
      append(
        `[portcullis] ${name} failed (${err.code ?? err.message}): its lines are written here from now on\n`,
      );
    });
  }
}
