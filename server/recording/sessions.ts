/**
 * Session rows: starting a session without an event, resuming one (the principal's own, live, on this
 * connection) and ending one. Not responsible for events (append.ts writes them, read.ts reads them).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, eq, ne } from "drizzle-orm";
import { sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { GatewayError, notFound } from "@/server/errors";
import type { Principal } from "@/server/principal";

export interface SessionTarget {
  id: string;
  name: string;
}

export function sessionRow(
  id: string,
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
) {
  return {
    id,
    principalId: principal.id,
    principalLabel: principal.kind === "service" ? `service:${principal.name}` : principal.email,
    principalKind: principal.kind,
    connectionId: connection.id,
    connectionName: connection.name,
    kind,
    channel,
  };
}

export async function startSession(
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
): Promise<string> {
  const id = randomUUID();
  const db = await getDb();
  await db.insert(sessions).values(sessionRow(id, principal, connection, kind, channel));
  return id;
}

/** Why `principal` may not append to `sessionId` on `connectionId` (a GatewayError), or undefined if they may. */
export async function refuseResume(principal: Principal, sessionId: string, connectionId: string) {
  const db = await getDb();
  const [row] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!row || row.principalId !== principal.id) return notFound("no such session");
  if (row.connectionId !== connectionId)
    return new GatewayError("bad_request", "that session belongs to another connection");
  if (row.state !== "live") return new GatewayError("bad_request", "that session has ended; start a new one");
  return undefined;
}

/** A session the principal may append to: their own, live, on this connection. */
export async function resumeSession(
  principal: Principal,
  sessionId: string,
  connectionId: string,
): Promise<string> {
  const refused = await refuseResume(principal, sessionId, connectionId);
  if (refused) throw refused;
  return sessionId;
}

export async function endSession(sessionId: string, state: "ended" | "failed" = "ended") {
  const db = await getDb();
  await db.update(sessions).set({ state, endedAt: new Date() }).where(eq(sessions.id, sessionId));
}

/**
 * Waits until a session is no longer live (ended by the process that holds it, maybe on another replica),
 * checking the store every 100 ms for at most `timeoutMs`. Returns whether it ended in time: an admin who ends a
 * session sees it ended in the list they go back to.
 */
export async function waitForSessionEnd(sessionId: string, timeoutMs = 5_000): Promise<boolean> {
  const db = await getDb();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.id, sessionId), ne(sessions.state, "live")));
    if (row) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
