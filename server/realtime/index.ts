/**
 * WebSocket endpoints served beside Next.js by the custom server (terminals, live inbox updates).
 * Every upgrade is authenticated from the session cookie before a handler sees it; handlers register a path.
 */
import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { principalFromCookieHeader } from "@/server/auth/authenticate";
import type { Principal } from "@/server/auth/principal";

export type SocketHandler = (socket: WebSocket, principal: Principal, url: URL) => void | Promise<void>;

const handlers = new Map<string, SocketHandler>();
const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

export function registerSocketHandler(path: string, handler: SocketHandler) {
  handlers.set(path, handler);
}

function refuse(socket: Duplex, status: number, message: string) {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Returns false when the path is not ours (so the caller may pass it on, e.g. to Next.js in development). */
export function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = new URL(request.url ?? "/", "http://localhost");
  const handler = handlers.get(url.pathname);
  if (!handler) return false;
  principalFromCookieHeader(request.headers.cookie ?? "")
    .then((principal) => {
      if (!principal) return refuse(socket, 401, "Unauthorized");
      wss.handleUpgrade(request, socket, head, (ws) => {
        Promise.resolve(handler(ws, principal, url)).catch((err) => {
          console.error("[portcullis] socket handler failed:", err);
          ws.close(1011, "internal error");
        });
      });
    })
    .catch(() => refuse(socket, 500, "Internal Server Error"));
  return true;
}

// A heartbeat endpoint: the console shows whether its live channel is up.
registerSocketHandler("/ws/events", (ws, principal) => {
  ws.send(JSON.stringify({ type: "hello", user: principal.email }));
  ws.on("message", (data) => {
    if (data.toString() === "ping") ws.send(JSON.stringify({ type: "pong" }));
  });
});
