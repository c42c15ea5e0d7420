/**
 * The store's cost of bulk terminal output: 256 KiB output events (what the terminal recorder writes during a large
 * `cat`) appended one at a time through the recorder (appendSessionEvent, group commit, the real append statement)
 * on an embedded store, its PGlite on this thread (--thread main, the default: every CPU millisecond is this
 * process's) or in its worker (--thread worker). Prints wall time and CPU time per event, the table's size on disk
 * per MiB of output (TOAST's compression), and checks that the output is stored byte for byte and the chain verifies.
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/store-bulk.ts [-- --events 100
 *   --thread main]. Run it alternately with another tree's copy to compare: this machine is shared and noisy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100" },
    thread: { type: "string", default: "main" },
  },
});
const EVENTS = Number(values.events);
const thread = values.thread === "worker" ? "worker" : "main";
const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-bulk-"));
process.env.DATA_DIR = dataDir;

async function main() {
  const { installStore, openStore } = await import("../db/store");
  const store = await openStore({ dataDir, thread });
  installStore(store);
  const recording = await import("../server/recording");
  const { verifySession } = await import("../server/integrity");
  const principal = { id: "bench", kind: "person", email: "bench@example.com", groups: [] } as never;
  const { sessionId } = await recording.startSessionWithEvent(
    principal,
    { id: "conn", name: "bench" },
    "terminal",
    "terminal",
    { type: "start", data: {} },
  );
  // Log-like lines as bench:terminal's `cat` prints them, with quotes and a backslash so escaping is exercised.
  const line = `2026-11-23T19:00:00Z INFO api request handled path=/v1/items status=200 ms=12 user="u-1234" \\\r\n`;
  const output = line.repeat(Math.ceil(262_144 / line.length)).slice(0, 262_144);
  for (let i = 0; i < 5; i++) await recording.appendSessionEvent(sessionId, "output", { t: i, data: output });
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++)
    await recording.appendSessionEvent(sessionId, "output", { t: 5 + i, data: output });
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const pglite = store.pglite;
  if (!pglite) throw new Error("no embedded store");
  const size = await pglite.query<{ bytes: string; same: boolean }>(
    `select pg_total_relation_size('session_events')::text as bytes,
      bool_and(data->>'data' = $1) as same from session_events where type = 'output'`,
    [output],
  );
  const verification = await verifySession(sessionId);
  const [row] = size.rows;
  if (!row?.same) throw new Error("an output event was not stored as given");
  if (!verification?.ok) throw new Error("the session's chain does not verify");
  const mib = ((EVENTS + 5) * 262_144) / 1_048_576;
  console.log(
    `store-bulk (${thread} thread, ${EVENTS} events of 256 KiB): ${(wall / EVENTS).toFixed(2)} ms wall, ` +
      `${((used.user + used.system) / 1000 / EVENTS).toFixed(2)} ms CPU per event (this process, all threads); ` +
      `session_events ${(Number(row.bytes) / 1_048_576).toFixed(2)} MB on disk for ${mib.toFixed(1)} MiB of output; ` +
      "stored byte for byte, chain verified",
  );
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
