/**
 * Pure pieces of terminal replay: which stored rows a chunk of replay holds, and how output is searched.
 * Kept apart from the store so the selection rules are unit-tested (replay-chunk.test.ts). Times are seconds
 * since the session started, as the recording (and asciicast) counts them.
 */

/** What the player applies after a keyframe: output to write and size changes. */
export type ReplayEvent =
  | { id: number; t: number; type: "output"; data: string }
  | { id: number; t: number; type: "resize"; cols: number; rows: number };

export interface StoredRow {
  id: number;
  type: string;
  data: Record<string, unknown>;
}

/** How far past the requested time a chunk reaches, so playing on does not wait for the next request. */
export const AHEAD_SECONDS = 30;
/** ...but no more output than this past it (a burst of output can be megabytes in a second). */
export const AHEAD_CHARS = 256 * 1024;

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function toReplayEvent(row: StoredRow): ReplayEvent | undefined {
  const t = num(row.data.t);
  if (row.type === "output")
    return { id: row.id, t, type: "output", data: typeof row.data.data === "string" ? row.data.data : "" };
  if (row.type === "resize")
    return { id: row.id, t, type: "resize", cols: num(row.data.cols) || 80, rows: num(row.data.rows) || 24 };
  return undefined;
}

/**
 * Collects replay events from rows in recording order: everything up to `through` (what the screen at that
 * time needs), then a window ahead (AHEAD_SECONDS, at most AHEAD_CHARS of output, always at least one event
 * so playing on makes progress). Call with successive pages of rows until `isDone`.
 */
export class ChunkCollector {
  readonly events: ReplayEvent[] = [];
  isDone = false;
  private aheadChars = 0;

  constructor(
    private readonly through: number,
    private readonly aheadUntil = through + AHEAD_SECONDS,
    private readonly maxAheadChars = AHEAD_CHARS,
  ) {}

  add(rows: StoredRow[]) {
    for (const row of rows) {
      const event = toReplayEvent(row);
      if (!event) continue;
      if (event.t > this.through) {
        const hasAhead = this.events.some((e) => e.t > this.through);
        if (hasAhead && (event.t > this.aheadUntil || this.aheadChars >= this.maxAheadChars)) {
          this.isDone = true;
          return;
        }
        if (event.type === "output") this.aheadChars += event.data.length;
      }
      this.events.push(event);
    }
  }

  /** The last event's id: where the next chunk starts. */
  lastId(): number | undefined {
    return this.events.at(-1)?.id;
  }
}

/** Output text without escape sequences, for a search hit's context. */
export function plainText(text: string): string {
  return (
    text
      // CSI, OSC (to BEL or ST), other two-character escapes
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are the point
      .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?|\u001b[@-_]/g, "")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: as above
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
      .replace(/\s+/g, " ")
  );
}
