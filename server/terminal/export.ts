/**
 * Session export: a terminal session as asciicast v2 (a header line, then one JSON array per event:
 * [t, "o", output], [t, "r", "COLSxROWS"], [t, "m", command decision], and with input [t, "i", keys]), and an
 * SQL session as JSON (the session and its events). Only what the recording holds, which is already masked.
 * Streamed: events are read from the store a page at a time and written out as they come, so a recording of
 * hundreds of megabytes is never one string (V8 caps a string at about 512 M characters) nor all in memory.
 * Access: the session's owner, or audit:read.
 */
import "server-only";
import type { SessionEvent } from "@/db/schema";
import { chunked, indentedJson, indentedJsonArray } from "@/server/http/file-pieces";
import type { Principal } from "@/server/principal";
import { readSessionEvents, visibleSession } from "@/server/recording";
import { MAX_OUTPUT_EVENT_CHARS } from "./event-sizes";

export interface SessionExport {
  contentType: string;
  filename: string;
  /** the file, in pieces (server/http/file-pieces.ts) */
  body: AsyncIterable<string>;
}

type EventLike = Pick<SessionEvent, "type" | "data">;

const seconds = (event: EventLike): number => (typeof event.data.t === "number" ? event.data.t : 0);
const text = (value: unknown): string => (typeof value === "string" ? value : "");

/**
 * Keystrokes are stored in batches after the output they caused (at most 250 ms of typing per batch, see
 * recorder.ts), with the time of their first key; players want times in order. So an event read in append order
 * is held until an event REORDER_WINDOW_S later has been read: nothing read after that can be earlier. Holding
 * is bounded (REORDER_HELD_CHARS) so a burst of output cannot fill memory.
 */
const REORDER_WINDOW_S = 2;
const REORDER_HELD_CHARS = 8 * 1024 * 1024;

/** Events in time order (ties in append order) as they arrive roughly ordered; see REORDER_WINDOW_S. */
export class TimeOrder {
  private held: { t: number; n: number; event: EventLike; chars: number }[] = [];
  private heldChars = 0;
  private latest = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(private readonly windowS: number) {}

  /** Takes an event; returns those now safe to write, in order. */
  push(event: EventLike): EventLike[] {
    const t = seconds(event);
    const entry = { t, n: this.count++, event, chars: text(event.data.data).length };
    // Mostly appended at the end; a late keystroke batch goes back a little.
    let at = this.held.length;
    while (at > 0 && this.held[at - 1]!.t > t) at--;
    this.held.splice(at, 0, entry);
    this.heldChars += entry.chars;
    this.latest = Math.max(this.latest, t);
    const out: EventLike[] = [];
    while (
      this.held.length > 0 &&
      (this.held[0]!.t <= this.latest - this.windowS || this.heldChars > REORDER_HELD_CHARS)
    ) {
      const first = this.held.shift()!;
      this.heldChars -= first.chars;
      out.push(first.event);
    }
    return out;
  }

  /** The rest, in order. */
  drain(): EventLike[] {
    const out = this.held.map((h) => h.event);
    this.held = [];
    this.heldChars = 0;
    return out;
  }
}

/** Writes asciicast v2: the header from the first size, then a line per event in time order. */
class AsciicastWriter {
  private readonly order: TimeOrder;

  constructor(
    private readonly first: EventLike | undefined,
    private readonly options: { withInput?: boolean },
    windowS: number,
  ) {
    this.order = new TimeOrder(windowS);
  }

  header(startedAt: Date, title: string | undefined): string {
    const first = this.first;
    return JSON.stringify({
      version: 2,
      width: typeof first?.data.cols === "number" ? first.data.cols : 80,
      height: typeof first?.data.rows === "number" ? first.data.rows : 24,
      timestamp: Math.floor(startedAt.getTime() / 1000),
      ...(title && { title }),
      env: { TERM: "xterm-256color" },
    });
  }

  /** Lines now ready for `event` (in time order). */
  lines(event: EventLike): string[] {
    return this.render(this.order.push(event));
  }

  end(): string[] {
    return this.render(this.order.drain());
  }

  private render(events: EventLike[]): string[] {
    const out: string[] = [];
    for (const event of events) {
      const line = this.line(event);
      if (line !== undefined) out.push(line);
    }
    return out;
  }

  private line(event: EventLike): string | undefined {
    const t = seconds(event);
    if (event.type === "output") return JSON.stringify([t, "o", text(event.data.data)]);
    if (event.type === "input" && this.options.withInput)
      return JSON.stringify([t, "i", text(event.data.data)]);
    if (event.type === "resize" && !this.isFirst(event))
      return JSON.stringify([t, "r", `${String(event.data.cols)}x${String(event.data.rows)}`]);
    if (event.type === "command") {
      const command = event.data.isHidden ? "(input not echoed)" : text(event.data.command);
      return JSON.stringify([t, "m", `${String(event.data.decision)}: ${command}`]);
    }
    return undefined;
  }

  /** The first resize gives the header's size; events read from the store are new objects, so compare by id. */
  private isFirst(event: EventLike): boolean {
    if (event === this.first) return true;
    const id = (event as { id?: unknown }).id;
    return id !== undefined && id === (this.first as { id?: unknown } | undefined)?.id;
  }
}

/** asciicast v2 for a terminal session's events held in memory (tests, small sessions). */
export function toAsciicast(
  events: EventLike[],
  startedAt: Date,
  options: { title?: string; withInput?: boolean } = {},
): string {
  const writer = new AsciicastWriter(
    events.find((e) => e.type === "resize"),
    options,
    Number.POSITIVE_INFINITY,
  );
  const lines = [writer.header(startedAt, options.title)];
  for (const event of events) lines.push(...writer.lines(event));
  lines.push(...writer.end());
  return `${lines.join("\n")}\n`;
}

const TERMINAL_TYPES = ["output", "input", "resize", "command"];
/** Events read a page at a time: a page of the largest output events is at most 16 MB. */
const EXPORT_PAGE_ROWS = Math.floor((16 * 1024 * 1024) / MAX_OUTPUT_EVENT_CHARS);

async function* asciicastLines(
  sessionId: string,
  startedAt: Date,
  options: { title: string; withInput: boolean },
): AsyncGenerator<string> {
  let first: SessionEvent | undefined;
  for await (const event of readSessionEvents(sessionId, { types: ["resize"], pageSize: 1 })) {
    first = event;
    break;
  }
  const writer = new AsciicastWriter(first, options, REORDER_WINDOW_S);
  yield `${writer.header(startedAt, options.title)}\n`;
  const types = options.withInput ? TERMINAL_TYPES : TERMINAL_TYPES.filter((t) => t !== "input");
  for await (const event of readSessionEvents(sessionId, { types, pageSize: EXPORT_PAGE_ROWS })) {
    for (const line of writer.lines(event)) yield `${line}\n`;
  }
  for (const line of writer.end()) yield `${line}\n`;
}

/** What JSON.stringify({ session, events }, null, 2) writes, written an event at a time. */
async function* sqlSessionJson(session: unknown, sessionId: string): AsyncGenerator<string> {
  yield `{\n  "session": ${indentedJson(session, 1)},\n  "events": `;
  yield* indentedJsonArray(readSessionEvents(sessionId), 1);
  yield "\n}";
}

export async function exportSession(
  principal: Principal,
  sessionId: string,
  options: { withInput?: boolean } = {},
): Promise<SessionExport> {
  const session = await visibleSession(principal, sessionId);
  const stamp = session.startedAt.toISOString().replace(/[:.]/g, "-");
  if (session.kind === "terminal") {
    return {
      contentType: "application/x-asciicast",
      filename: `${session.connectionName}-${stamp}.cast`,
      body: chunked(
        asciicastLines(sessionId, session.startedAt, {
          title: `${session.principalLabel} on ${session.connectionName}`,
          withInput: options.withInput ?? false,
        }),
      ),
    };
  }
  return {
    contentType: "application/json",
    filename: `${session.connectionName}-${stamp}.json`,
    body: chunked(sqlSessionJson(session, sessionId)),
  };
}
