// Small process plumbing shared by the test harness: find a free TCP port, wait until a port accepts
// connections, and make sure servers the harness started do not outlive the test process.
// Not a port reservation: a port is free when returned, so start the server on it right away.
import { connect, createServer } from "node:net";

export function getFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a listening socket"));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

function canConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const finish = (isOpen: boolean) => {
      socket.destroy();
      resolve(isOpen);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

export interface WaitForPortOptions {
  host?: string;
  timeoutMs?: number;
  /** Checked between attempts; returning a string stops waiting and becomes the error message. */
  checkFailure?: () => string | undefined;
}

/** Resolves once something accepts TCP connections on host:port; rejects on timeout or checkFailure. */
export async function waitForPort(port: number, options: WaitForPortOptions = {}): Promise<void> {
  const { host = "127.0.0.1", timeoutMs = 30_000, checkFailure } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port, host)) return;
    const failure = checkFailure?.();
    if (failure !== undefined) throw new Error(failure);
    if (Date.now() > deadline) {
      throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Cleanup = () => void;
const cleanups = new Set<Cleanup>();
const exitSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Best effort while the process is going away; the next cleanup must still run.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  process.removeListener(signal, onSignal);
  // Keep the default behaviour (terminate) unless someone else also handles this signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let isHooked = false;

/**
 * Registers a synchronous cleanup that runs if the process exits (or is signalled) before the owner
 * stops its server normally. Returns a function that unregisters it, to call from a normal stop().
 */
export function cleanupOnExit(cleanup: Cleanup): () => void {
  if (!isHooked) {
    isHooked = true;
    process.once("exit", runCleanups);
    for (const signal of exitSignals) process.on(signal, onSignal);
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
