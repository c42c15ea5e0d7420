/**
 * WebSocket endpoints served beside Next.js by the custom server (terminals, live inbox updates).
 * Every upgrade is authenticated from the session cookie before a handler sees it; handlers register a path.
 * Also the console's live channel (/ws/events). Not responsible for what a terminal socket says
 * (server/terminal/socket.ts registers itself here).
 */
import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { reviewSignals } from "@/server/approvals";
import { principalFromCookieHeader } from "@/server/auth";
import type { Principal } from "@/server/principal";

/**
 * `isSessionCurrent` answers whether the console session that opened the socket still holds (not signed out,
 * ended everywhere, disabled...): a long-lived socket asks it before acting on the person's behalf again.
 */
export type SocketHandler = (
  socket: WebSocket,
  principal: Principal,
  url: URL,
  isSessionCurrent: () => Promise<boolean>,
) => void | Promise<void>;

const handlers = new Map<string, SocketHandler>();
const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

export function registerSocketHandler(path: string, handler: SocketHandler) {
  handlers.set(path, handler);
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function refuse(socket: Duplex, status: number, message: string) {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Returns false when the path is not ours (so the caller may pass it on, e.g. to Next.js in development). */
export function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = new URL(request.url ?? "/", "http://localhost");
  const handler = handlers.get(url.pathname);
  if (!handler) return false;
  // Cookies ride along on cross-site WebSocket handshakes (SameSite=Lax does not stop them): only our own
  // pages may open a socket.
  const origin = request.headers.origin;
  if (origin && safeHost(origin) !== request.headers.host) {
    refuse(socket, 403, "Forbidden");
    return true;
  }
  principalFromCookieHeader(request.headers.cookie ?? "")
    .then((principal) => {
      if (!principal) return refuse(socket, 401, "Unauthorized");
      const cookie = request.headers.cookie ?? "";
      // Cached per person and cleared on every change (server/store-cache.ts): cheap enough for every line.
      const isSessionCurrent = async () => (await principalFromCookieHeader(cookie))?.id === principal.id;
      wss.handleUpgrade(request, socket, head, (ws) => {
        Promise.resolve(handler(ws, principal, url, isSessionCurrent)).catch((err) => {
          console.error("[portcullis] socket handler failed:", err);
          ws.close(1011, "internal error");
        });
      });
    })
    .catch(() => refuse(socket, 500, "Internal Server Error"));
  return true;
}

/** Close code of a socket whose console session has ended (signed out, ended everywhere, disabled...). */
export const SESSION_ENDED_CLOSE = 4401;

// The console's live channel: a hello, and a nudge whenever reviews change (the inbox and its badge refetch).
// Before each message the session is checked again (cached per person), so a session that has ended gets no
// more nudges: its socket is closed instead.
registerSocketHandler("/ws/events", (ws, principal, _url, isSessionCurrent) => {
  const send = async (message: object) => {
    if (await isSessionCurrent().catch(() => false)) ws.send(JSON.stringify(message));
    else ws.close(SESSION_ENDED_CLOSE, "the console session has ended");
  };
  ws.send(JSON.stringify({ type: "hello", user: principal.email }));
  const nudge = () => void send({ type: "reviews-changed" });
  reviewSignals.addEventListener("changed", nudge);
  ws.on("close", () => reviewSignals.removeEventListener("changed", nudge));
  ws.on("message", (data) => {
    if (data.toString() === "ping") void send({ type: "pong" });
  });
});
