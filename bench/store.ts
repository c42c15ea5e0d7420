/**
 * The recorder's appends on the embedded store, with PGlite on the console's main thread (STORE_THREAD=main), in
 * the store's worker thread (STORE_THREAD=worker: one message per call, db/store-thread.ts), and in a process of its
 * own reached over the store's local socket (server/store-socket.ts, postgres.js on the main thread: the shape a
 * worker serving the socket would have). Measures, for each: one append at a time (p50/p99), appends from C concurrent "requests"
 * (appends per second; group commit shares their commits), and how busy the main thread is meanwhile (event loop
 * utilization: the share of time HTTP parsing, masking and the target's sockets would have to wait).
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/store.ts [-- --runs 1000 --concurrency 8]
 * With --mode main, --mode worker or --mode process, only that one (run them alternately: this machine is shared
 * and noisy).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const NODE_ARGS = ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs"];

async function serveStore(dataDir: string, socketPath: string) {
  const { openStore } = await import("../db/store");
  const { serveStoreSocket } = await import("../server/store-socket");
  const store = await openStore({ dataDir });
  if (!store.pglite) throw new Error("no embedded store");
  await serveStoreSocket(store.pglite, socketPath);
  process.stdout.write("ready\n");
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const ms = (n: number) => `${n.toFixed(3)} ms`;

type Mode = "main" | "worker" | "process";
const LABELS: Record<Mode, string> = {
  main: "main thread",
  worker: "worker thread, messages",
  process: "its own process, over the socket",
};

async function measure(mode: Mode, runs: number, concurrency: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-store-"));
  process.env.DATA_DIR = dataDir;
  let server: ChildProcess | undefined;
  const { installStore, openStore } = await import("../db/store");
  if (mode === "main" || mode === "worker") {
    installStore(await openStore({ dataDir, thread: mode }));
  } else {
    const socketPath = path.join(dataDir, ".bench.sock");
    // A worker thread cannot load TypeScript here (Node 20 does not give a worker the --import hooks):
    // a process of its own, the other shape the issue names.
    server = spawn(
      process.execPath,
      [...NODE_ARGS, "bench/store.ts", "--serve", dataDir, "--socket", socketPath],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      server?.stdout?.once("data", () => resolve());
      server?.once("exit", (code) => reject(new Error(`the store process exited with ${code}`)));
    });
    installStore(await openStore({ socketPath, dataDir }));
  }
  const recording = await import("../server/recording");
  const { appendSessionEvent, startSessionWithEvent } = recording;
  // Absent before group commit (for before/after runs against an older recorder): one write per commit.
  const stats = () =>
    "groupCommitStats" in recording
      ? (recording.groupCommitStats as () => { commits: number; writes: number })()
      : { commits: 0, writes: 0 };
  const principal = { id: "bench", kind: "person", email: "bench@example.com", groups: [] } as never;
  const connection = { id: "conn", name: "bench" };
  const start = () =>
    startSessionWithEvent(principal, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1 as one", decision: "allow" },
      counters: { statements: 1, allowed: 1 },
    });
  // One request's record stage: the statement (the session's first event), then its one-row result.
  const request = async () => {
    const { sessionId, eventId } = await start();
    await appendSessionEvent(sessionId, "result", {
      statementEventId: eventId,
      status: "done",
      rowCount: 1,
      results: [{ columns: [{ name: "one" }], rows: [[1]], masked: [] }],
    });
  };
  for (let i = 0; i < 100; i++) await request(); // warm-up
  const samples: number[] = [];
  let elu = performance.eventLoopUtilization();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await request();
    samples.push(performance.now() - t);
  }
  const sequentialElu = performance.eventLoopUtilization(elu).utilization;
  samples.sort((a, b) => a - b);
  const before = stats();
  elu = performance.eventLoopUtilization();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < Math.ceil(runs / concurrency); i++) await request();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const concurrentElu = performance.eventLoopUtilization(elu).utilization;
  const after = stats();
  const writes = after.writes - before.writes;
  console.log(
    `| ${LABELS[mode]} | ${ms(
      percentile(samples, 50),
    )} | ${ms(percentile(samples, 99))} | ${(sequentialElu * 100).toFixed(0)}% | ${(
      (concurrency * Math.ceil(runs / concurrency)) / seconds
    ).toFixed(
      0,
    )} | ${(after.commits > before.commits ? writes / (after.commits - before.commits) : 1).toFixed(1)} | ${(concurrentElu * 100).toFixed(0)}% |`,
  );
  const { getStore } = await import("../db/store");
  await (await getStore()).close();
  server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "8" },
      mode: { type: "string", default: "both" },
      serve: { type: "string" },
      socket: { type: "string" },
    },
  });
  if (values.serve && values.socket) return serveStore(values.serve, values.socket);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  console.log(
    `\nThe record stage of a one-row request (start the session with its statement, append the result), ${runs} requests; then ${concurrency} at a time\n`,
  );
  console.log(
    "| PGlite runs on | one at a time, p50 | p99 | main thread busy | concurrent, requests/s | writes per commit | main thread busy |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  // Each mode in its own process (one store per process): this one runs them in turn.
  if (values.mode === "both") {
    const { execFileSync } = await import("node:child_process");
    for (const mode of ["main", "worker", "process", "main", "worker", "process"]) {
      const out = execFileSync(
        process.execPath,
        [
          ...NODE_ARGS,
          "bench/store.ts",
          "--mode",
          mode,
          "--runs",
          String(runs),
          "--concurrency",
          String(concurrency),
        ],
        { encoding: "utf8" },
      );
      console.log(out.trim().split("\n").at(-1));
    }
    return;
  }
  if (!(values.mode in LABELS))
    throw new Error(`--mode is main, worker, process or both, not ${values.mode}`);
  await measure(values.mode as Mode, runs, concurrency);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
