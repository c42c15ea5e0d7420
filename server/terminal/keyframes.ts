/**
 * Keyframes of a terminal recording: the gateway's own screen (@xterm/headless), serialized with
 * @xterm/addon-serialize at intervals, so a replay can start at the nearest keyframe instead of the first
 * byte. This module decides when a keyframe is due and captures one; the recorder places it in the event
 * stream (recorder.ts) and replay.ts reads it back. Not responsible for storing anything.
 *
 * When: after KEYFRAME_EVERY_CHARS of output or KEYFRAME_EVERY_SECONDS of session time with some output,
 * whichever comes first. The character budget bounds what a seek has to replay (half a megabyte parses in
 * tens of milliseconds in a browser); the time budget bounds how many small events a seek reads in a
 * slow, interactive session. A keyframe is ~10-20 KB, so bulk output grows by about 3%.
 */
import "server-only";
import serializeAddon from "@xterm/addon-serialize";
import type { Terminal } from "@xterm/headless";

const { SerializeAddon } = serializeAddon;

export const KEYFRAME_EVERY_CHARS = 512 * 1024;
export const KEYFRAME_EVERY_SECONDS = 60;
/** Lines above the screen a keyframe keeps, so a replay started there can still scroll back a little. */
export const KEYFRAME_SCROLLBACK = 100;

/** What a keyframe event holds (besides `t`, which the recorder sets). */
export interface KeyframeState {
  cols: number;
  rows: number;
  /** serialized screen: written into a fresh terminal of cols x rows, it draws the screen as it was */
  screen: string;
}

/**
 * Decides when the next keyframe is due; pure, so the schedule is testable without a terminal. Output is
 * counted as a running offset from the point each keyframe was asked for, so output that arrives while
 * one is being captured counts towards the next.
 */
export class KeyframeSchedule {
  private lastOffset = 0;
  private lastAt = 0;

  constructor(
    private readonly everyChars = KEYFRAME_EVERY_CHARS,
    private readonly everySeconds = KEYFRAME_EVERY_SECONDS,
  ) {}

  /** Whether a keyframe should follow `offset` characters of output at session time `t` (seconds). */
  isDue(offset: number, t: number): boolean {
    if (offset <= this.lastOffset) return false;
    return offset - this.lastOffset >= this.everyChars || t - this.lastAt >= this.everySeconds;
  }

  /** A keyframe is being taken at `t`, covering the first `offset` characters of output. */
  taken(offset: number, t: number) {
    this.lastOffset = offset;
    this.lastAt = t;
  }

  /** The keyframe could not be taken (mid escape sequence): the next output makes one due again. */
  missed() {
    this.lastOffset = Number.NEGATIVE_INFINITY;
  }
}

/** The parser's state inside xterm (internal, as the serialize addon itself reads internals). */
interface ParserInternals {
  _core?: { _inputHandler?: { _parser?: { currentState?: number } } };
}

/**
 * Whether the terminal's parser is between escape sequences. A keyframe taken in the middle of one (output
 * split inside `ESC [ 3 1 m`) would replay the rest of it as text, so such a moment is skipped.
 */
export function isParserIdle(term: Terminal): boolean {
  const state = (term as unknown as ParserInternals)._core?._inputHandler?._parser?.currentState;
  return state === undefined || state === 0;
}

/** Scroll region (DECSTBM) as xterm holds it; the serialize addon does not restore it. */
interface BufferInternals {
  _core?: { buffer?: { scrollTop?: number; scrollBottom?: number; x?: number; y?: number } };
}

/** A serializer bound to one terminal. */
export function keyframeCapturer(term: Terminal): () => KeyframeState {
  const addon = new SerializeAddon();
  // The addon's types name @xterm/xterm's Terminal; the headless one has the same surface it uses.
  term.loadAddon(addon as unknown as Parameters<Terminal["loadAddon"]>[0]);
  return () => {
    let screen = addon.serialize({ scrollback: KEYFRAME_SCROLLBACK });
    const buffer = (term as unknown as BufferInternals)._core?.buffer;
    const top = buffer?.scrollTop ?? 0;
    const bottom = buffer?.scrollBottom ?? term.rows - 1;
    if ((top !== 0 || bottom !== term.rows - 1) && buffer) {
      // Setting the region homes the cursor; put it back where it was.
      const x = Math.min(buffer.x ?? 0, term.cols - 1);
      screen += `\u001b[${top + 1};${bottom + 1}r\u001b[${(buffer.y ?? 0) + 1};${x + 1}H`;
    }
    return { cols: term.cols, rows: term.rows, screen };
  };
}
