/**
 * Live terminal sessions of this process, for admins to list and end. Kept on globalThis (processSingleton)
 * because the WebSocket handler and the API routes run in separately loaded copies of the server modules.
 * Sessions on other replicas are not seen here.
 */
import "server-only";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { notFound } from "@/server/errors";
import { processSingleton } from "@/server/singleton";

export interface LiveTerminal {
  sessionId: string;
  principalId: string;
  principalLabel: string;
  connectionName: string;
  host: string;
  username: string;
  startedAt: Date;
  lastInputAt: Date;
  cols: number;
  rows: number;
  /** Ends the session with a reason shown to its user. */
  end(reason: string): void;
}

const live = processSingleton("terminal.live", () => new Map<string, LiveTerminal>());

export function registerLiveTerminal(terminal: LiveTerminal) {
  live.set(terminal.sessionId, terminal);
}

export function unregisterLiveTerminal(sessionId: string) {
  live.delete(sessionId);
}

export function listLiveTerminals() {
  return [...live.values()].map(({ end: _end, ...view }) => ({
    ...view,
    startedAt: view.startedAt.toISOString(),
    lastInputAt: view.lastInputAt.toISOString(),
  }));
}

/** Ends a live session for an admin (its user sees who ended it); audited. */
export async function endLiveTerminal(actor: Actor, sessionId: string) {
  const terminal = live.get(sessionId);
  if (!terminal) throw notFound("no live terminal session with that id on this gateway");
  terminal.end(`ended by ${actor.label}`);
  await recordAuditEvent(actor, "terminal.end", terminal.connectionName, {
    sessionId,
    user: terminal.principalLabel,
  });
}
