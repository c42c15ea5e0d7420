/**
 * The browser terminal's WebSocket messages (/ws/terminal), as one typed union per direction that both ends
 * parse: the browser sends `input` and `resize` as JSON text; the gateway sends terminal output as binary frames
 * (already masked and recorded, not described here) and `ready`, `ended` and `error` as JSON text.
 * Client-safe (no server imports). Not responsible for what a message does: server/terminal/socket.ts and
 * components/terminal act on them.
 */
import { z } from "zod";

/** Screen size in character cells; the gateway clamps it to what it supports. */
const cells = z.number().int().min(1).max(10_000);

export const terminalClientMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("input"), data: z.string() }),
  z.strictObject({ type: z.literal("resize"), cols: cells, rows: cells }),
]);

export const terminalServerMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("ready"),
    sessionId: z.string(),
    connection: z.string(),
    host: z.string(),
    username: z.string(),
    user: z.string(),
    isRecording: z.literal(true),
    idleTimeoutSeconds: z.number(),
    maxDurationSeconds: z.number(),
  }),
  z.strictObject({ type: z.literal("ended"), reason: z.string() }),
  z.strictObject({ type: z.literal("error"), message: z.string() }),
]);

export type TerminalClientMessage = z.infer<typeof terminalClientMessageSchema>;
export type TerminalServerMessage = z.infer<typeof terminalServerMessageSchema>;

/** The close code and reason a socket ends with when the other end sent something that is not a message. */
export const MALFORMED_MESSAGE_CLOSE = { code: 1007, reason: "malformed message" } as const;

export type ParsedMessage<T> = { ok: true; message: T } | { ok: false; problem: string };

function parseWith<T>(schema: z.ZodType<T>, text: string): ParsedMessage<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "not JSON" };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `${issue?.path.join(".") || "message"}: ${issue?.message ?? "invalid"}` };
}

export function parseTerminalClientMessage(text: string): ParsedMessage<TerminalClientMessage> {
  return parseWith(terminalClientMessageSchema, text);
}

export function parseTerminalServerMessage(text: string): ParsedMessage<TerminalServerMessage> {
  return parseWith(terminalServerMessageSchema, text);
}

/** The text frame of a message; typed, so neither end can send a shape the other does not parse. */
export function encodeTerminalMessage(message: TerminalClientMessage | TerminalServerMessage): string {
  return JSON.stringify(message);
}
