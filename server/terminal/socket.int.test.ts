// The console's terminal socket (/ws/terminal) end to end on real parts: the realtime upgrade with a signed-in
// session cookie, the socket handler of socket.ts, the terminal session, a real sshd. Messages are the typed
// unions of lib/api/terminal-messages.ts: well-formed ones drive the shell; a frame from the browser that is not
// one of them ends the terminal, closes the socket with 1007 and a reason naming the problem, and runs nothing.
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  encodeTerminalMessage,
  parseTerminalServerMessage,
  replayChunkSchema,
  replaySearchSchema,
  type TerminalServerMessage,
} from "@/lib/api";
import { type SshdServer, startSshd } from "@/test/harness/sshd";
import { addTestBox } from "./terminal-fixtures";

const actor = { id: null, label: "test" };
let sshd: SshdServer;
let dataDir: string;
let markers: string;
let server: Server;
let base: string;
let cookie: string;
let userId: string;

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-socket-"));
  markers = mkdtempSync(path.join(tmpdir(), "portcullis-socket-ran-"));
  chmodSync(markers, 0o777);
  delete process.env.DATABASE_URL;
  delete process.env.PUBLIC_URL;
  process.env.DATA_DIR = dataDir;
  const { createGroup, createUser } = await import("@/server/auth");
  await createGroup(actor, { name: "ops" });
  userId = await createUser(actor, {
    email: "op@example.com",
    password: "operator-password-1",
    groups: ["ops"],
  });
  await addTestBox(sshd, "ops");

  const { getConfig } = await import("@/server/config");
  const { currentSessionEpoch } = await import("@/server/auth/sessions");
  const token = await encode({
    token: { uid: userId, epoch: await currentSessionEpoch(userId) },
    secret: getConfig().authSecret,
  });
  cookie = `next-auth.session-token=${token}`;

  const { handleUpgrade } = await import("@/server/realtime");
  await import("./socket");
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req, socket, head) => {
    if (!handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await sshd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(markers, { recursive: true, force: true });
});

interface Terminal {
  ws: WebSocket;
  messages: TerminalServerMessage[];
  output(): string;
  /** resolves with the first gateway message of this type */
  next(type: TerminalServerMessage["type"]): Promise<TerminalServerMessage>;
  /** resolves with the output once it holds `text` */
  waitForOutput(text: string): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

function openTerminal(): Terminal {
  const ws = new WebSocket(`${base}/ws/terminal?connection=box&cols=100&rows=30`, { headers: { cookie } });
  const messages: TerminalServerMessage[] = [];
  let output = "";
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  ws.on("message", (data, isBinary) => {
    if (isBinary) output += Buffer.from(data as Buffer).toString("utf8");
    else {
      const parsed = parseTerminalServerMessage(data.toString());
      if (!parsed.ok) throw new Error(`the gateway sent a malformed message: ${parsed.problem}`);
      messages.push(parsed.message);
    }
    wake();
  });
  const until = <T>(read: () => T | undefined) =>
    new Promise<T>((resolve) => {
      const check = () => {
        const value = read();
        if (value !== undefined) resolve(value);
        else waiters.push(check);
      };
      check();
    });
  return {
    ws,
    messages,
    output: () => output,
    next: (type) => until(() => messages.find((m) => m.type === type)),
    waitForOutput: (text) => until(() => (output.includes(text) ? output : undefined)),
    closed: new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    ),
  };
}

describe("the terminal socket's messages", () => {
  it("runs typed input and answers with ready and output", async () => {
    const terminal = openTerminal();
    const ready = await terminal.next("ready");
    expect(ready).toMatchObject({
      type: "ready",
      connection: "box",
      user: "op@example.com",
      isRecording: true,
    });
    terminal.ws.send(encodeTerminalMessage({ type: "resize", cols: 120, rows: 40 }));
    terminal.ws.send(encodeTerminalMessage({ type: "input", data: "echo socket-$((40 + 2))\r" }));
    await terminal.waitForOutput("socket-42");
    terminal.ws.close();
    expect((await terminal.closed).code).toBe(1005);

    // Its recording replays in the shapes the player's fetchers check (lib/api/sessions.ts).
    const { loadPrincipal } = await import("@/server/auth");
    const { readReplay, searchReplay } = await import("./replay");
    const principal = (await loadPrincipal(userId, "session"))!;
    const sessionId = ready.type === "ready" ? ready.sessionId : "";
    const asSent = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
    const chunk = replayChunkSchema.parse(
      asSent(await readReplay(principal, sessionId, new URLSearchParams("at=0"))),
    );
    expect(chunk.cols).toBeGreaterThan(0);
    const later = replayChunkSchema
      .pick({ events: true, next: true })
      .parse(asSent(await readReplay(principal, sessionId, new URLSearchParams("after=0&from=0"))));
    expect(later.events.some((e) => e.type === "output")).toBe(true);
    const found = replaySearchSchema.parse(
      asSent({ hits: await searchReplay(principal, sessionId, "socket-42") }),
    );
    expect(found.hits.length).toBeGreaterThan(0);
  });

  it.each([
    ["text that is not JSON", "echo hi\r", "not JSON"],
    ["an unknown type", '{"type":"exec","data":"id"}', "type"],
    ["input without data", '{"type":"input"}', "data"],
    ["input with data that is not text", '{"type":"input","data":["id"]}', "data"],
    ["resize with sizes as text", '{"type":"resize","cols":"80","rows":"24"}', "cols"],
    ["resize to nothing", '{"type":"resize","cols":0,"rows":0}', "cols"],
  ])("closes the socket with 1007 on %s, naming the problem", async (_name, frame, where) => {
    const terminal = openTerminal();
    await terminal.next("ready");
    terminal.ws.send(frame);
    const error = await terminal.next("error");
    const closed = await terminal.closed;
    expect(closed.code).toBe(1007);
    expect(closed.reason).toMatch(/^malformed message: /);
    expect(closed.reason).toContain(where);
    expect(error).toMatchObject({ type: "error" });
    expect(error.type === "error" && error.message).toContain("malformed message");
  });

  it("runs nothing of a malformed frame nor of what follows it, and ends the recorded session", async () => {
    const ran = path.join(markers, "ran-after-malformed");
    const terminal = openTerminal();
    const ready = await terminal.next("ready");
    // An input with a field the union does not have: the old reader took its data and typed it.
    terminal.ws.send(JSON.stringify({ type: "input", data: `touch ${ran}\r`, sudo: true }));
    terminal.ws.send(encodeTerminalMessage({ type: "input", data: `touch ${ran}\r` }));
    expect((await terminal.closed).code).toBe(1007);
    const { getSessionWithEvents } = await import("@/server/recording");
    const sessionId = ready.type === "ready" ? ready.sessionId : "";
    const recorded = await new Promise<Awaited<ReturnType<typeof getSessionWithEvents>>>((resolve) => {
      const poll = async () => {
        const found = await getSessionWithEvents(sessionId);
        if (found && found.session.state !== "live") resolve(found);
        else setTimeout(poll, 50);
      };
      void poll();
    });
    expect(recorded?.session.state).toBe("ended");
    const notices = recorded?.events.filter((e) => e.type === "notice").map((e) => String(e.data.message));
    expect(notices).toContain("session ended: the browser sent a malformed message");
    expect(recorded?.events.some((e) => e.type === "command" || e.type === "statement")).toBe(false);
    expect(existsSync(ran)).toBe(false);
  });

  it("closes a socket whose first frame, sent before the shell is open, is malformed", async () => {
    const terminal = openTerminal();
    await new Promise((resolve) => terminal.ws.on("open", resolve));
    terminal.ws.send('{"type":"resize","cols":80}');
    const closed = await terminal.closed;
    expect(closed.code).toBe(1007);
    expect(closed.reason).toContain("rows");
  });
});
