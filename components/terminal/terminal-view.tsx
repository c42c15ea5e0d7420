"use client";

// The browser terminal: xterm.js fitted to its box, talking to the gateway's /ws/terminal endpoint. Output
// arrives already masked and recorded; keystrokes go to the gateway, which decides each command line at
// Enter. The status line says where you are connected, as whom, and that the session is recorded; a dropped
// connection shows a notice with a Reconnect button (a new session). Copy: select, then Ctrl+Shift+C;
// paste: Ctrl+Shift+V, Ctrl+V or the context menu. The socket's messages are the typed unions of
// lib/api/terminal-messages.ts; a text frame from the gateway that is not one of them ends the terminal.
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { useEffect, useRef, useState } from "react";
import {
  encodeTerminalMessage,
  MALFORMED_MESSAGE_CLOSE,
  parseTerminalServerMessage,
  type TerminalClientMessage,
} from "@/lib/api";

type Status =
  | { state: "connecting" }
  | {
      state: "connected";
      sessionId: string;
      connection: string;
      host: string;
      username: string;
      user: string;
      idleTimeoutSeconds: number;
    }
  | { state: "ended"; reason: string; sessionId?: string }
  | { state: "dropped"; reason: string; sessionId?: string };

function minutes(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}

export function TerminalView({ connection }: { connection: string }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<Status>({ state: "connecting" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    let isDisposed = false;
    let cleanup: (() => void) | undefined;
    setStatus({ state: "connecting" });

    (async () => {
      const [{ Terminal: XTerm }, { FitAddon: Fit }] = await Promise.all([
        import("@xterm/xterm"),
        import("@xterm/addon-fit"),
      ]);
      if (isDisposed) return;
      const term: Terminal = new XTerm({
        cursorBlink: true,
        fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
        fontSize: 14,
        lineHeight: 1.15,
        scrollback: 5000,
        theme: {
          background: "#14181f",
          foreground: "#e6e9ef",
          cursor: "#8fb0ff",
          selectionBackground: "#3b4a66",
        },
      });
      const fit: FitAddon = new Fit();
      term.loadAddon(fit);
      term.open(host);
      fit.fit();
      if (attempt > 0) term.writeln("\u001b[2m[portcullis] reconnecting: this is a new session\u001b[0m");

      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const query = new URLSearchParams({ connection, cols: String(term.cols), rows: String(term.rows) });
      const ws = new WebSocket(`${scheme}://${window.location.host}/ws/terminal?${query}`);
      ws.binaryType = "arraybuffer";
      let sessionId: string | undefined;
      let ended: string | undefined;
      const send = (message: TerminalClientMessage) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(encodeTerminalMessage(message));
      };

      ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
        if (typeof event.data !== "string") {
          term.write(new Uint8Array(event.data));
          return;
        }
        const parsed = parseTerminalServerMessage(event.data);
        if (!parsed.ok) {
          ended = `the gateway sent a ${MALFORMED_MESSAGE_CLOSE.reason} (${parsed.problem})`;
          ws.close(MALFORMED_MESSAGE_CLOSE.code, MALFORMED_MESSAGE_CLOSE.reason);
          return;
        }
        const message = parsed.message;
        if (message.type === "ready") {
          sessionId = message.sessionId;
          setStatus({
            state: "connected",
            sessionId: message.sessionId,
            connection: message.connection,
            host: message.host,
            username: message.username,
            user: message.user,
            idleTimeoutSeconds: message.idleTimeoutSeconds,
          });
        } else if (message.type === "ended") {
          ended = message.reason;
        } else if (message.type === "error") {
          ended = message.message;
          term.write(`\r\n\u001b[1;31m[portcullis] ${message.message}\u001b[0m\r\n`);
        }
      };
      ws.onclose = (event) => {
        if (isDisposed) return;
        if (ended !== undefined) setStatus({ state: "ended", reason: ended, sessionId });
        else
          setStatus({
            state: "dropped",
            reason: event.reason || "the connection to the gateway was lost",
            sessionId,
          });
      };

      const onData = term.onData((data) => send({ type: "input", data }));
      const onResize = term.onResize(({ cols, rows }) => send({ type: "resize", cols, rows }));
      term.attachCustomKeyEventHandler((event) => {
        if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
        if (event.code === "KeyC") {
          const selection = term.getSelection();
          if (selection) void navigator.clipboard?.writeText(selection);
          return false;
        }
        if (event.code === "KeyV") {
          void navigator.clipboard?.readText().then((text) => term.paste(text));
          return false;
        }
        return true;
      });
      let frame = 0;
      const observer = new ResizeObserver(() => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => {
          if (!isDisposed) fit.fit();
        });
      });
      observer.observe(host);
      term.focus();

      cleanup = () => {
        cancelAnimationFrame(frame);
        observer.disconnect();
        onData.dispose();
        onResize.dispose();
        ws.onclose = null;
        ws.close();
        term.dispose();
      };
    })();

    return () => {
      isDisposed = true;
      cleanup?.();
    };
  }, [connection, attempt]);

  return (
    <div className="terminal-frame">
      <div
        className="terminal-status"
        data-state={status.state}
        data-session-id={"sessionId" in status ? status.sessionId : undefined}
        role="status"
      >
        {status.state === "connecting" && <span>Connecting to {connection}…</span>}
        {status.state === "connected" && (
          <>
            <span className="dot ok" aria-hidden />
            <span>
              Connected to <strong>{status.connection}</strong>{" "}
              <span className="mono">
                ({status.username}@{status.host})
              </span>{" "}
              as <strong>{status.user}</strong>
            </span>
            <span className="tag recording">● recording on</span>
            <span className="muted small">
              commands are checked at Enter · output is masked · idle limit{" "}
              {minutes(status.idleTimeoutSeconds)}
            </span>
          </>
        )}
        {(status.state === "dropped" || status.state === "ended") && (
          <>
            <span className={`dot ${status.state === "ended" ? "off" : "bad"}`} aria-hidden />
            <span role="alert">
              {status.state === "ended" ? "Session ended" : "Disconnected"}: {status.reason}
            </span>
            <button type="button" onClick={() => setAttempt((n) => n + 1)}>
              Reconnect
            </button>
            <span className="muted small">a new session starts; the old one stays in the recording</span>
          </>
        )}
      </div>
      <div className="terminal-host" ref={hostRef} data-testid="terminal" />
    </div>
  );
}
