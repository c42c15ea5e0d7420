/**
 * Sessions lost with their console process. A live native or terminal session is held by one console process
 * (the client's socket is there); if that process dies (kill -9, a crash, a host gone) nothing records the end,
 * and the session would be shown live forever. So every process registers itself in gateway_processes and beats a
 * heartbeat there, and a session it holds names it as its owner (sessions.owner_process).
 *
 * A session is lost when its owner is gone: its heartbeat is older than LOST_AFTER_SECONDS, its row is missing,
 * the store is the embedded one (one process opens it at a time, so any other owner has stopped), or the owner ran
 * on this machine (same host name and PID namespace) under a PID that no longer exists. The sessions list shows a
 * lost session as ended at once (goneOwners); the sweep (at start-up, then every SWEEP_MS) closes it for
 * good: one statement appends a notice to its hash chain and marks it failed, only while it is still live and
 * still held by that owner, so two replicas sweeping together record one end, and the chain verifies.
 *
 * Not responsible for ending live clients (server/listeners, server/terminal), nor for appending ordinary events
 * (append.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import { rowsOf } from "@/db/rows";
import { gatewayProcesses, sessions } from "@/db/schema";
import { getDb, getStore } from "@/db/store";
import { canonicalJson, chainHashSql, sessionEventDigestOf } from "@/server/integrity";
import { processSingleton } from "@/server/singleton";

/** How often a process beats its heartbeat. */
export const HEARTBEAT_MS = 10_000;
/** A process whose heartbeat is older than this has stopped (several missed beats, not one slow one). */
export const LOST_AFTER_SECONDS = 45;
/** How often a running process looks for sessions lost by others. */
const SWEEP_MS = 30_000;

export const LOST_SESSION_REASON = "its gateway process stopped";

interface LivenessState {
  processId: string;
  /** sessions this process holds, with what to do if another replica closed one as lost */
  held: Map<string, () => void>;
  registered?: Promise<void>;
  heartbeat?: NodeJS.Timeout;
}

const state = processSingleton<LivenessState>("recording.liveness", () => ({
  processId: randomUUID(),
  held: new Map(),
}));

/** This process's id in gateway_processes. */
export function currentProcessId(): string {
  return state.processId;
}

/**
 * Host name and PID namespace: two processes with the same value see each other's PIDs, so one can tell that the
 * other has exited. Empty where the namespace cannot be read (then only the heartbeat tells).
 */
export function machineKey(): string {
  try {
    return `${hostname()} ${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return "";
  }
}

/** Is a process with this PID running here? (EPERM: it runs, as another user.) */
function isPidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function logFailure(what: string) {
  return (err: unknown) =>
    console.error(`[portcullis] session liveness: ${what}:`, err instanceof Error ? err.message : err);
}

/**
 * Beats this process's heartbeat, then lets go of the sessions it holds that are no longer live: ended here as
 * usual, or closed as lost by another replica while this process could not beat (cut off from the store); for
 * those, onLost ends the client, whose recording is closed.
 */
export async function writeHeartbeat() {
  const db = await getDb();
  const beaten = await db
    .update(gatewayProcesses)
    .set({ heartbeatAt: sql`now()` })
    .where(eq(gatewayProcesses.id, state.processId))
    .returning({ id: gatewayProcesses.id });
  // Gone (deleted by hand, or a store restored from a backup): registered again.
  if (beaten.length === 0) {
    await db
      .insert(gatewayProcesses)
      .values({ id: state.processId, machine: machineKey(), pid: process.pid })
      .onConflictDoNothing();
  }
  if (state.held.size === 0) return;
  const over = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(inArray(sessions.id, [...state.held.keys()]), ne(sessions.state, "live")));
  for (const { id } of over) {
    const onLost = state.held.get(id);
    state.held.delete(id);
    try {
      onLost?.();
    } catch (err) {
      logFailure(`could not end the client of lost session ${id}`)(err);
    }
  }
}

/** Registers this process and starts its heartbeat (once; later calls wait for the first). */
export function registerProcess(): Promise<void> {
  state.registered ??= writeHeartbeat()
    .then(() => {
      state.heartbeat ??= setInterval(
        () => void writeHeartbeat().catch(logFailure("heartbeat failed")),
        HEARTBEAT_MS,
      );
      state.heartbeat.unref();
    })
    .catch((err: unknown) => {
      state.registered = undefined;
      throw err;
    });
  return state.registered;
}

/** Stops the heartbeat (shutdown, tests); the row stays and goes stale like a stopped process's. */
export function stopHeartbeat() {
  if (state.heartbeat) clearInterval(state.heartbeat);
  state.heartbeat = undefined;
  state.registered = undefined;
}

/**
 * Marks a session as held by this process: if the process stops, the session is shown ended and swept. Called by
 * the channel that holds the client (the native listener, the terminal) right after the session starts.
 * `onLost` is called if another replica closed it as lost while it was still open here (this process was cut
 * off from the store for longer than LOST_AFTER_SECONDS): the channel ends the client, whose recording is over.
 * It may also be called after the session ended here as usual, so it must do nothing for a closed client.
 */
export async function holdSession(sessionId: string, onLost?: () => void): Promise<void> {
  await registerProcess();
  if (onLost) state.held.set(sessionId, onLost);
  const db = await getDb();
  await db.update(sessions).set({ ownerProcess: state.processId }).where(eq(sessions.id, sessionId));
}

/**
 * Which of these owners are gone by their heartbeat alone (stale, or no row): for the sessions list, which shows
 * their live sessions as ended before any sweep has closed them. One query over a handful of rows.
 */
export async function goneOwners(owners: string[]): Promise<Set<string>> {
  if (owners.length === 0) return new Set();
  const db = await getDb();
  const fresh = await db
    .select({ id: gatewayProcesses.id })
    .from(gatewayProcesses)
    .where(
      and(
        inArray(gatewayProcesses.id, owners),
        sql`${gatewayProcesses.heartbeatAt} >= now() - make_interval(secs => ${LOST_AFTER_SECONDS})`,
      ),
    );
  const alive = new Set(fresh.map((r) => r.id));
  return new Set(owners.filter((owner) => !alive.has(owner)));
}

interface HeldSession {
  id: string;
  owner: string;
  startedAt: Date;
  kind: "sql" | "terminal";
  heartbeatAt: Date | null;
  machine: string | null;
  pid: number | null;
  stale: boolean;
}

/** Live sessions held by other processes, with what is known of each owner. */
async function sessionsHeldElsewhere(): Promise<HeldSession[]> {
  const db = await getDb();
  const result = await db.execute(sql`
    select s.id, s.owner_process as owner, s.started_at as "startedAt", s.kind,
      p.heartbeat_at as "heartbeatAt", p.machine, p.pid,
      (p.id is null or p.heartbeat_at < now() - make_interval(secs => ${LOST_AFTER_SECONDS})) as stale
    from sessions s left join gateway_processes p on p.id = s.owner_process
    where s.state = 'live' and s.owner_process is not null and s.owner_process <> ${state.processId}`);
  return rowsOf<HeldSession>(result).map((r) => ({
    ...r,
    startedAt: new Date(r.startedAt),
    heartbeatAt: r.heartbeatAt === null ? null : new Date(r.heartbeatAt),
  }));
}

/** Why the owner of this session is known to be gone, or undefined while it may still run. */
function whyGone(held: HeldSession, isEmbedded: boolean, machine: string): string | undefined {
  if (isEmbedded) return "the embedded store is opened by one process at a time";
  if (held.stale) return `no heartbeat for more than ${LOST_AFTER_SECONDS} s`;
  if (machine && held.machine === machine && held.pid !== null && !isPidRunning(held.pid))
    return `process ${held.pid} on this machine has exited`;
  return undefined;
}

/**
 * Closes one lost session in one statement: a notice appended to its chain (seq and hash computed from the head
 * the same statement moves) and the session marked failed, only if it is still live and held by `owner`.
 * Returns whether this call closed it (false: already ended, or closed by another sweeper).
 */
async function closeLostSession(held: HeldSession, why: string): Promise<boolean> {
  const at = new Date();
  const lastSeen = held.heartbeatAt ?? held.startedAt;
  const data: Record<string, unknown> = {
    level: "error",
    message: `the session was lost: ${LOST_SESSION_REASON} (${why}); its client was disconnected with it`,
    lost: true,
    lastSeenAt: lastSeen.toISOString(),
  };
  // A terminal's events carry their time in the session (the player places them by it).
  if (held.kind === "terminal") data.t = Math.max(0, lastSeen.getTime() - held.startedAt.getTime());
  const json = canonicalJson(data);
  const digest = sessionEventDigestOf({ sessionId: held.id, type: "notice", at }, json);
  const db = await getDb();
  const result = await db.execute(sql`
    with head as (
      update sessions set
        state = 'failed',
        ended_at = ${at.toISOString()}::timestamptz,
        event_seq = event_seq + 1,
        chain_head = ${chainHashSql(sql`chain_head`, sql`event_seq + 1`, digest)}
      where id = ${held.id} and state = 'live' and owner_process = ${held.owner}
      returning event_seq, chain_head
    )
    insert into session_events (session_id, seq, hash, at, type, data)
    select ${held.id}, event_seq, chain_head, ${at.toISOString()}::timestamptz, 'notice', ${json}::jsonb from head
    returning id`);
  return rowsOf(result).length > 0;
}

/**
 * Ends the live sessions of console processes that are gone (see the header), then forgets those processes.
 * Safe to run on several replicas at once. Returns the sessions this call ended.
 */
export async function sweepLostSessions(): Promise<string[]> {
  const store = await getStore();
  const isEmbedded = store.kind === "pglite";
  const machine = machineKey();
  const ended: string[] = [];
  const goneOwners = new Set<string>();
  for (const held of await sessionsHeldElsewhere()) {
    const why = whyGone(held, isEmbedded, machine);
    if (!why) continue;
    goneOwners.add(held.owner);
    if (await closeLostSession(held, why)) ended.push(held.id);
  }
  const db = await getDb();
  for (const owner of goneOwners) {
    await db.delete(gatewayProcesses).where(eq(gatewayProcesses.id, owner));
  }
  // Processes stopped long ago holding nothing any more: their rows are only clutter.
  await db.execute(sql`delete from gateway_processes p
    where p.id <> ${state.processId} and p.heartbeat_at < now() - interval '1 day'
      and not exists (select 1 from sessions s where s.owner_process = p.id and s.state = 'live')`);
  return ended;
}

/**
 * Registers this process, sweeps the sessions others left live (at once: after a restart of the only console,
 * its old sessions end before anyone looks), then sweeps every SWEEP_MS. Returns the stop function.
 */
export function startSessionSweep(): () => Promise<void> {
  let sweeping = false;
  const run = () => {
    if (sweeping) return;
    sweeping = true;
    void sweepLostSessions()
      .then((ended) => {
        if (ended.length > 0)
          console.log(`[portcullis] ended ${ended.length} session(s) lost with a stopped console process`);
      })
      .catch(logFailure("sweeping sessions of stopped processes failed"))
      .finally(() => {
        sweeping = false;
      });
  };
  void registerProcess().catch(logFailure("could not register this process")).then(run);
  const timer = setInterval(run, SWEEP_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopHeartbeat();
  };
}
