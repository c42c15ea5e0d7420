// Test helpers for native results streamed (result-stream and extended-stream .int.test.ts): the result events a
// statement recorded, waiting until something is so, the target's backend running the gateway's read, and what
// this process's heap retains while a read runs (the gateway runs in the test's process).
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { onDatabase } from "./approvals.fixture";

/** The result events recorded for the statement whose input contains `marker`, oldest first. */
export function resultEventsOf(storeUrl: string, marker: string) {
  return onDatabase(storeUrl, async (sql) => {
    const rows = await sql<{ session_id: string; data: Record<string, unknown> }[]>`
      select r.session_id, r.data from session_events r
      join session_events s on s.id = (r.data->>'statementEventId')::bigint
      where r.type = 'result' and s.type = 'statement' and s.data->>'input' like ${`%${marker}%`}
      order by r.id`;
    return rows.map((r): Record<string, unknown> & { sessionId: string } => ({
      ...r.data,
      sessionId: r.session_id,
    }));
  });
}

/** What `what` gives once it gives something (every 20 ms, for 30 s at most). */
export async function until<T>(what: () => Promise<T | undefined>, label: string): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const got = await what();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${label}`);
}

/**
 * The target's backend running the gateway's read of `marker` (its wait event), if it is running; of the
 * backends named `applicationName` only, when given (a client's own name is passed on to its session).
 */
export function targetBackend(targetUrl: string, marker: string, applicationName?: string) {
  return onDatabase(targetUrl, async (sql) => {
    const [row] = await sql<{ pid: number; wait_event: string | null; state: string }[]>`
      select pid, wait_event, state from pg_stat_activity
      where query like ${`%${marker}%`} and pid <> pg_backend_pid() and state = 'active'
        and (${applicationName ?? null}::text is null or application_name = ${applicationName ?? null})`;
    return row;
  });
}

v8.setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/**
 * Samples what this process's heap retains (a full collection before each sample, so the batches already sent do
 * not count) while `body` runs: the largest growth seen, in MB.
 */
export async function heapGrowthDuring(body: () => Promise<void>): Promise<number> {
  collectGarbage();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    collectGarbage();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 250);
  try {
    await body();
  } finally {
    clearInterval(timer);
  }
  return (peak - base) / 1024 / 1024;
}
