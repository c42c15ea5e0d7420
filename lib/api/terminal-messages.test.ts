import { describe, expect, it } from "vitest";
import {
  encodeTerminalMessage,
  parseTerminalClientMessage,
  parseTerminalServerMessage,
  type TerminalClientMessage,
  type TerminalServerMessage,
} from "./terminal-messages";

const CLIENT_MESSAGES: TerminalClientMessage[] = [
  { type: "input", data: "ls -la\r" },
  { type: "input", data: "" },
  { type: "input", data: "\u001b[A\u0003 ünïcode ✓" },
  { type: "resize", cols: 120, rows: 40 },
  { type: "resize", cols: 1, rows: 1 },
];

const SERVER_MESSAGES: TerminalServerMessage[] = [
  {
    type: "ready",
    sessionId: "0b6f3f0e-6f0e-4a58-9c55-1f1f7d0e0a11",
    connection: "web-1",
    host: "10.0.0.5",
    username: "deploy",
    user: "ada@example.com",
    isRecording: true,
    idleTimeoutSeconds: 900,
    maxDurationSeconds: 28_800,
  },
  { type: "ended", reason: "idle for 15 min" },
  { type: "error", message: "missing permission connections:use" },
];

describe("terminal socket messages", () => {
  it.each(CLIENT_MESSAGES)("round-trips the browser's %j", (message) => {
    expect(parseTerminalClientMessage(encodeTerminalMessage(message))).toEqual({ ok: true, message });
  });

  it.each(SERVER_MESSAGES)("round-trips the gateway's %j", (message) => {
    expect(parseTerminalServerMessage(encodeTerminalMessage(message))).toEqual({ ok: true, message });
  });

  it.each([
    ["text that is not JSON", "ls\r", "not JSON"],
    ["a JSON string", '"ls"', "message"],
    ["null", "null", "message"],
    ["an unknown type", '{"type":"exec","data":"rm -rf /"}', "type"],
    ["input without data", '{"type":"input"}', "data"],
    ["input with data that is not text", '{"type":"input","data":42}', "data"],
    ["input with an extra field", '{"type":"input","data":"ls","sudo":true}', "message"],
    ["resize with a fractional size", '{"type":"resize","cols":80.5,"rows":24}', "cols"],
    ["resize to nothing", '{"type":"resize","cols":0,"rows":24}', "cols"],
    ["resize past any screen", '{"type":"resize","cols":80,"rows":1000000}', "rows"],
    ["resize with sizes as text", '{"type":"resize","cols":"80","rows":"24"}', "cols"],
  ])("refuses from the browser %s, naming the problem", (_name, frame, where) => {
    const parsed = parseTerminalClientMessage(frame);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(where);
  });

  it.each([
    ["an output frame sent as text", "hello"],
    ["a message of the browser's", '{"type":"input","data":"ls"}'],
    ["ready without its session", '{"type":"ready","connection":"web-1"}'],
    ["ended without a reason", '{"type":"ended"}'],
  ])("refuses from the gateway %s", (_name, frame) => {
    expect(parseTerminalServerMessage(frame).ok).toBe(false);
  });

  it("never echoes the refused frame's values in the problem (they may be keystrokes)", () => {
    const parsed = parseTerminalClientMessage('{"type":"input","data":["hunter2-password"]}');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).not.toContain("hunter2");
  });
});
