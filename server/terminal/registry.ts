/**
 * Live terminal sessions for admins: list them (every console process sharing the store, see presence.ts)
 * and end one wherever it runs; its user sees who ended it. Ending is audited here.
 */
import "server-only";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { notFound } from "@/server/errors";
import { listPresentTerminals, requestTerminalEnd } from "./presence";

export type LiveTerminal = Awaited<ReturnType<typeof listLiveTerminals>>[number];

export async function listLiveTerminals() {
  return (await listPresentTerminals()).map(({ processId: _processId, ...view }) => ({
    ...view,
    startedAt: view.startedAt.toISOString(),
    lastInputAt: view.lastInputAt.toISOString(),
  }));
}

/** Ends a live session for an admin, on whichever process runs it; audited. */
export async function endLiveTerminal(actor: Actor, sessionId: string) {
  const terminal = (await listPresentTerminals()).find((t) => t.sessionId === sessionId);
  if (!terminal) throw notFound("no live terminal session with that id");
  await requestTerminalEnd({ sessionId, reason: `ended by ${actor.label}` });
  await recordAuditEvent(actor, "terminal.end", terminal.connectionName, {
    sessionId,
    user: terminal.principalLabel,
  });
}
