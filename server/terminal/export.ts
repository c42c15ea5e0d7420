/**
 * Session export: a terminal session as asciicast v2 (a header line, then one JSON array per event:
 * [t, "o", output], [t, "r", "COLSxROWS"], [t, "m", command decision], and with input [t, "i", keys]), and an
 * SQL session as JSON (the session and its events). Only what the recording holds, which is already masked.
 * Access: the session's owner, or audit:read.
 */
import "server-only";
import type { SessionEvent } from "@/db/schema";
import { hasPermission, type Principal } from "@/server/auth/principal";
import { notFound } from "@/server/errors";
import { getSessionWithEvents } from "@/server/recording";

export interface SessionExport {
  contentType: string;
  filename: string;
  body: string;
}

const seconds = (event: SessionEvent): number => (typeof event.data.t === "number" ? event.data.t : 0);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** asciicast v2 lines for a terminal session's events; the first resize event gives the header's size. */
export function toAsciicast(
  events: Pick<SessionEvent, "type" | "data">[],
  startedAt: Date,
  options: { title?: string; withInput?: boolean } = {},
): string {
  const first = events.find((e) => e.type === "resize");
  const header = {
    version: 2,
    width: typeof first?.data.cols === "number" ? first.data.cols : 80,
    height: typeof first?.data.rows === "number" ? first.data.rows : 24,
    timestamp: Math.floor(startedAt.getTime() / 1000),
    ...(options.title && { title: options.title }),
    env: { TERM: "xterm-256color" },
  };
  const lines = [JSON.stringify(header)];
  // Keystrokes are stored in batches after the output they caused; players want times in order.
  const ordered = events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => seconds(a.event as SessionEvent) - seconds(b.event as SessionEvent) || a.index - b.index)
    .map((e) => e.event);
  for (const event of ordered) {
    const t = seconds(event as SessionEvent);
    if (event.type === "output") lines.push(JSON.stringify([t, "o", text(event.data.data)]));
    else if (event.type === "input" && options.withInput)
      lines.push(JSON.stringify([t, "i", text(event.data.data)]));
    else if (event.type === "resize" && event !== first)
      lines.push(JSON.stringify([t, "r", `${String(event.data.cols)}x${String(event.data.rows)}`]));
    else if (event.type === "command") {
      const command = event.data.isHidden ? "(input not echoed)" : text(event.data.command);
      lines.push(JSON.stringify([t, "m", `${String(event.data.decision)}: ${command}`]));
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function exportSession(
  principal: Principal,
  sessionId: string,
  options: { withInput?: boolean } = {},
): Promise<SessionExport> {
  const found = await getSessionWithEvents(sessionId);
  if (!found || (found.session.principalId !== principal.id && !hasPermission(principal, "audit:read"))) {
    throw notFound("no such session");
  }
  const { session, events } = found;
  const stamp = session.startedAt.toISOString().replace(/[:.]/g, "-");
  if (session.kind === "terminal") {
    return {
      contentType: "application/x-asciicast",
      filename: `${session.connectionName}-${stamp}.cast`,
      body: toAsciicast(events, session.startedAt, {
        title: `${session.principalLabel} on ${session.connectionName}`,
        withInput: options.withInput ?? false,
      }),
    };
  }
  return {
    contentType: "application/json",
    filename: `${session.connectionName}-${stamp}.json`,
    body: JSON.stringify({ session, events }, null, 2),
  };
}
