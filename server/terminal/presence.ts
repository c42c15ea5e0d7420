/**
 * Live terminals across console processes. Each process keeps a row per terminal it runs in
 * terminal_presence and refreshes a heartbeat, so any replica can list every live terminal and tell a
 * crashed process's leftovers (stale heartbeat) from a live one. Ending a terminal that runs elsewhere is a
 * `NOTIFY portcullis_terminals` every process LISTENs to while it runs terminals; the owner ends it.
 * With the embedded store there is one process and the notification is dispatched locally.
 * Not responsible for the terminal itself (terminal-session.ts) or the audit trail (registry.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, eq, gt, ne, not, sql } from "drizzle-orm";
import { sessions, terminalPresence } from "@/db/schema";
import { getDb } from "@/db/store";
import { appendSessionEvent, endSession } from "@/server/recording";
import { processSingleton } from "@/server/singleton";
import { listenOnStore, notifyOnStore } from "@/server/store-listen";

export const TERMINALS_CHANNEL = "portcullis_terminals";
const HEARTBEAT_MS = 15_000;
/** A row not refreshed for this long belongs to a process that is gone. */
const STALE_SECONDS = 60;

export interface PresenceDetails {
  sessionId: string;
  host: string;
  username: string;
  cols: number;
  rows: number;
  lastInputAt: Date;
}

export interface EndRequest {
  sessionId: string;
  reason: string;
}

interface PresenceState {
  processId: string;
  local: Map<string, { details: () => PresenceDetails; end: (reason: string) => void }>;
  heartbeat?: NodeJS.Timeout;
  listening?: Promise<void>;
  stopListening?: () => Promise<void>;
}

const state = processSingleton<PresenceState>("terminal.presence", () => ({
  processId: randomUUID(),
  local: new Map(),
}));

function logFailure(what: string) {
  return (err: unknown) => console.error(`[portcullis] terminal presence: ${what}:`, err);
}

/** Records a terminal this process runs; `end` is called when an admin on any replica ends it. */
export async function announceTerminal(details: () => PresenceDetails, end: (reason: string) => void) {
  const d = details();
  state.local.set(d.sessionId, { details, end });
  const db = await getDb();
  await db.insert(terminalPresence).values({ ...d, processId: state.processId });
  state.heartbeat ??= setInterval(() => void beat().catch(logFailure("heartbeat failed")), HEARTBEAT_MS);
  state.heartbeat.unref();
  await listenForEnds().catch(logFailure("could not listen for ends"));
}

export async function withdrawTerminal(sessionId: string) {
  state.local.delete(sessionId);
  if (state.local.size === 0 && state.heartbeat) {
    clearInterval(state.heartbeat);
    state.heartbeat = undefined;
  }
  const db = await getDb();
  await db.delete(terminalPresence).where(eq(terminalPresence.sessionId, sessionId));
}

async function beat() {
  const db = await getDb();
  for (const { details } of state.local.values()) {
    const { sessionId, ...rest } = details();
    await db
      .update(terminalPresence)
      .set({ ...rest, heartbeatAt: new Date() })
      .where(eq(terminalPresence.sessionId, sessionId));
  }
}

const fresh = () => gt(terminalPresence.heartbeatAt, sql`now() - make_interval(secs => ${STALE_SECONDS})`);

/**
 * Ends the terminals of console processes that are gone. A presence row of another process whose heartbeat is
 * older than STALE_SECONDS is deleted (the delete hands each row to one replica only), and its session, if still
 * live, gets a notice at the time of its last heartbeat and is marked failed: the sessions list and replay stop
 * showing it as live. Returns the sessions ended.
 */
export async function sweepStaleTerminals(): Promise<string[]> {
  const db = await getDb();
  const gone = await db
    .delete(terminalPresence)
    .where(and(ne(terminalPresence.processId, state.processId), not(fresh())))
    .returning({ sessionId: terminalPresence.sessionId, heartbeatAt: terminalPresence.heartbeatAt });
  const ended: string[] = [];
  for (const row of gone) {
    const [session] = await db
      .select({ state: sessions.state, startedAt: sessions.startedAt })
      .from(sessions)
      .where(eq(sessions.id, row.sessionId));
    if (session?.state !== "live") continue;
    await appendSessionEvent(row.sessionId, "notice", {
      t: Math.max(0, row.heartbeatAt.getTime() - session.startedAt.getTime()),
      level: "error",
      message: "the console process running this terminal stopped answering; the session was ended",
    });
    await endSession(row.sessionId, "failed");
    ended.push(row.sessionId);
  }
  return ended;
}

/** Sweeps stale terminals shortly after start and then every minute; returns the stop function. */
export function startTerminalSweep(): () => Promise<void> {
  const run = () => {
    sweepStaleTerminals().catch(logFailure("sweeping terminals of stopped processes failed"));
  };
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, 60_000);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Every live terminal on every process sharing this store, newest first. */
export async function listPresentTerminals() {
  const db = await getDb();
  const rows = await db
    .select({
      sessionId: terminalPresence.sessionId,
      processId: terminalPresence.processId,
      principalId: sessions.principalId,
      principalLabel: sessions.principalLabel,
      connectionName: sessions.connectionName,
      host: terminalPresence.host,
      username: terminalPresence.username,
      startedAt: sessions.startedAt,
      lastInputAt: terminalPresence.lastInputAt,
      cols: terminalPresence.cols,
      rows: terminalPresence.rows,
    })
    .from(terminalPresence)
    .innerJoin(sessions, eq(sessions.id, terminalPresence.sessionId))
    .where(and(eq(sessions.state, "live"), fresh()))
    .orderBy(sql`${sessions.startedAt} desc`);
  // This process's own terminals are read live rather than from the last heartbeat.
  return rows.map((row) => {
    const local = state.local.get(row.sessionId)?.details();
    return {
      ...row,
      ...(local && { lastInputAt: local.lastInputAt, cols: local.cols, rows: local.rows }),
      isOnThisProcess: row.processId === state.processId,
    };
  });
}

/** Is this terminal session open on some process (here, or with a fresh heartbeat elsewhere)? */
export async function isTerminalLive(sessionId: string): Promise<boolean> {
  if (state.local.has(sessionId)) return true;
  const db = await getDb();
  const [row] = await db
    .select({ id: terminalPresence.sessionId })
    .from(terminalPresence)
    .where(and(eq(terminalPresence.sessionId, sessionId), fresh()));
  return Boolean(row);
}

/** Asks whichever process runs the terminal to end it; here at once, elsewhere through the store. */
export async function requestTerminalEnd(request: EndRequest) {
  if (endLocally(request)) return;
  await notifyOnStore(TERMINALS_CHANNEL, JSON.stringify(request));
}

function endLocally({ sessionId, reason }: EndRequest): boolean {
  const terminal = state.local.get(sessionId);
  terminal?.end(reason);
  return Boolean(terminal);
}

function listenForEnds(): Promise<void> {
  state.listening ??= (async () => {
    state.stopListening = await listenOnStore(TERMINALS_CHANNEL, (payload) => {
      try {
        const request = JSON.parse(payload) as Partial<EndRequest>;
        if (typeof request.sessionId === "string" && typeof request.reason === "string")
          endLocally({ sessionId: request.sessionId, reason: request.reason });
      } catch {
        // not ours: ignored
      }
    });
  })().catch((err: unknown) => {
    state.listening = undefined;
    throw err;
  });
  return state.listening;
}

/** Stops listening (tests, shutdown). */
export async function stopTerminalSignals() {
  const stop = state.stopListening;
  state.listening = undefined;
  state.stopListening = undefined;
  await stop?.();
}
