/**
 * The browser terminal's WebSocket endpoint, /ws/terminal?connection=<name>&cols=<n>&rows=<n>.
 * Frames from the browser are JSON: {type:"input", data} and {type:"resize", cols, rows}. Frames to the browser
 * are binary (terminal output, UTF-8, already masked and recorded) or JSON text (ready, ended, error). Both
 * directions are the typed unions of lib/api/terminal-messages.ts, parsed strictly: a frame from the browser
 * that is not one of its messages ends the terminal and closes the socket with 1007 and the reason, since a
 * page that sends what it should not is not one to keep typing into a shell for.
 * The caller is authenticated by server/realtime before this handler runs; every line sent (a frame with a
 * newline) first checks that the console session still holds, so an ended session's open terminal runs nothing
 * more: the terminal ends with a message.
 */
import "server-only";
import type { WebSocket } from "ws";
import {
  encodeTerminalMessage,
  MALFORMED_MESSAGE_CLOSE,
  parseTerminalClientMessage,
  type TerminalClientMessage,
  type TerminalServerMessage,
} from "@/lib/api";
import { GatewayError } from "@/server/errors";
import { hasPermission } from "@/server/principal";
import { registerSocketHandler } from "@/server/realtime";
import { warmScreenWorker } from "./screen";
import { type TerminalClient, TerminalSession } from "./terminal-session";

export const TERMINAL_SOCKET_PATH = "/ws/terminal";

type ClientMessage = TerminalClientMessage;

/** A WebSocket close reason holds at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason, "utf8") > 123) reason = reason.slice(0, -1);
  return reason;
}

// The gateway's screens run in a worker thread (screen.ts): started with the endpoint, not by the first terminal.
warmScreenWorker();

registerSocketHandler(TERMINAL_SOCKET_PATH, async (ws: WebSocket, principal, url, isSessionCurrent) => {
  const send = (message: TerminalServerMessage) => ws.send(encodeTerminalMessage(message));
  const sendError = (message: string) => {
    send({ type: "error", message });
    ws.close(1008, "refused");
  };
  if (!hasPermission(principal, "connections:use")) return sendError("missing permission connections:use");
  const name = url.searchParams.get("connection") ?? "";
  if (!name) return sendError("say which connection: /ws/terminal?connection=<name>");

  // Keystrokes typed while the shell opens are kept and replayed in order.
  const early: ClientMessage[] = [];
  let session: TerminalSession | undefined;
  let isClosed = false;
  let hasSessionEnded = false;
  // Why the session ends when that is known before the session exists (it is still opening: its "ready" can
  // reach the browser before the shell's announcement is stored): used as soon as it does.
  let endReason: string | undefined;
  // Frames are handled in order; a line waits for the session check before it reaches the shell.
  let queue = Promise.resolve();
  const handle = async (message: ClientMessage) => {
    if (hasSessionEnded) return;
    if (message.type === "input" && /[\r\n]/.test(message.data) && !(await isSessionCurrent())) {
      hasSessionEnded = true;
      sendError("your console session has ended: sign in again");
      endReason = "the console session ended";
      await session?.end(endReason);
      return;
    }
    if (!session) {
      if (early.length < 1000) early.push(message);
      return;
    }
    if (message.type === "input") session.input(message.data);
    else session.resize(message);
  };
  const refuseMalformed = (problem: string) => {
    if (hasSessionEnded) return;
    hasSessionEnded = true;
    const reason = `${MALFORMED_MESSAGE_CLOSE.reason}: ${problem}`;
    if (ws.readyState === ws.OPEN) {
      send({ type: "error", message: `the browser sent a ${reason}; the terminal is closed` });
      ws.close(MALFORMED_MESSAGE_CLOSE.code, closeReason(reason));
    }
    endReason = `the browser sent a ${MALFORMED_MESSAGE_CLOSE.reason}`;
    void session?.end(endReason);
  };
  ws.on("message", (data, isBinary) => {
    const parsed = parseTerminalClientMessage(
      isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString(),
    );
    if (!parsed.ok) return refuseMalformed(parsed.problem);
    const message = parsed.message;
    queue = queue
      .then(() => handle(message))
      .catch((err: unknown) => {
        console.error("[portcullis] terminal input failed:", err);
        ws.close(1011, "internal error");
      });
  });
  ws.on("close", () => {
    isClosed = true;
    endReason ??= "the browser disconnected";
    void session?.end(endReason);
  });

  const client: TerminalClient = {
    output: (data) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.from(data, "utf8"), { binary: true });
    },
    control: (message) => {
      if (ws.readyState === ws.OPEN) send(message);
    },
    close: () => {
      if (ws.readyState === ws.OPEN) ws.close(1000, "session ended");
    },
    bufferedAmount: () => ws.bufferedAmount,
  };
  try {
    session = await TerminalSession.start(
      principal,
      name,
      { cols: Number(url.searchParams.get("cols")), rows: Number(url.searchParams.get("rows")) },
      client,
    );
  } catch (error) {
    if (error instanceof GatewayError) return sendError(error.message);
    throw error;
  }
  if (isClosed || endReason) {
    await session.end(endReason ?? "the browser disconnected");
    return;
  }
  for (const message of early.splice(0)) {
    if (message.type === "input") session.input(message.data);
    else session.resize(message);
  }
});
