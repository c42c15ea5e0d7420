/**
 * Write-then-send recording of a terminal session. Every event (output, input, resize, command decision)
 * is appended to the session's events in order, and output reaches the browser only after the event that
 * holds it is stored. Writes are group-committed: while one write is in flight, what arrives next is
 * coalesced (output up to 256 KB per event), so an idle keystroke costs one write and bulk output is
 * written in large events; everything that waited behind a write goes to the store next as one commit. A crash loses at most the event being written plus what waits behind it,
 * and none of that was shown. Not responsible for masking: it is handed text that is already masked.
 *
 * For replay it also writes two kinds of small events between the output: `masked` right after output in
 * which the masker replaced something (so a timeline can mark it without reading the output), and
 * `keyframe`, the gateway's screen serialized at an exact point of the output (keyframes.ts says when).
 * The output event before that point is closed there (nothing more joins it); the keyframe is written once
 * the screen has parsed up to that point and that output event is stored, wherever the chain then is, and
 * names it (`afterEventId`): replay starts from the keyframe's screen and the events after that one. The
 * output behind a keyframe is not held while the screen worker catches up.
 */
import "server-only";
import { appendSessionEvent, type SessionCounters } from "@/server/recording";
import { MAX_EVENT_CHARS, MAX_OUTPUT_EVENT_CHARS } from "./event-sizes";
import { KeyframeSchedule, type KeyframeState } from "./keyframes";

export { MAX_EVENT_CHARS, MAX_OUTPUT_EVENT_CHARS };

export type TerminalEventType =
  | "output"
  | "input"
  | "resize"
  | "command"
  | "notice"
  | "review"
  | "masked"
  | "keyframe";

interface Pending {
  type: TerminalEventType;
  data: Record<string, unknown>;
  text: string;
  counters: SessionCounters | undefined;
  after: (() => void)[];
  fail?: (error: Error) => void;
  /** output that a keyframe follows: nothing more joins it, so the keyframe's point is its end */
  isClosed?: boolean;
  /** called with the stored event's id */
  stored?: (id: number) => void;
}

/** Asks for the screen once it has parsed everything written so far; `undefined` when it cannot be taken. */
export type CaptureKeyframe = (done: (state: KeyframeState | undefined) => void) => void;

export class Recorder {
  private readonly pending: Pending[] = [];
  private writing = false;
  private failed: Error | undefined;
  private idle: (() => void)[] = [];
  /**
   * Characters waiting to be written, not counting the batch being written (for back-pressure on the target:
   * what arrives while a batch is written is the next batch, so the target need not stop for the store).
   */
  pendingChars = 0;
  /** Keystrokes not yet queued: they need not precede anything, so they wait for a batch of their own. */
  private keys = "";
  private keysAt = 0;
  private keysTimer: NodeJS.Timeout | undefined;
  /** Keyframes asked for and not yet queued (the screen or their output event not there yet). */
  private keyframesOut = 0;

  constructor(
    private readonly sessionId: string,
    private readonly startedAt: number,
    private readonly hooks: {
      /** Output that is now stored, to send to the browser. */
      onOutputStored: (text: string) => void;
      /** Applied to a batch of keystrokes before it is stored (masking what was typed or pasted). */
      maskInput: (text: string) => string;
      onFailure: (error: Error) => void;
      /** An event was stored (back-pressure on the target can ease). */
      onStored?: () => void;
      /** Serializes the screen for a keyframe; without it the recording has none. */
      captureKeyframe?: CaptureKeyframe;
      /** Milliseconds on the clock `startedAt` is on (performance.now; the replay bench simulates hours). */
      clock?: () => number;
    },
    private readonly schedule = new KeyframeSchedule(),
  ) {}

  /** Output characters queued so far (a keyframe records where in the output it stands). */
  private outputChars = 0;

  /** Seconds since the session started, as asciicast counts them. */
  now(): number {
    const now = this.hooks.clock?.() ?? performance.now();
    return Math.round((now - this.startedAt) * 1000) / 1e6;
  }

  /**
   * Records keystrokes. They are batched apart from output (every 250 ms, 1 KB, or before the next command
   * decision), so an echo waits for one write, not two; `t` is the first keystroke's time.
   */
  input(text: string) {
    if (this.failed || text === "") return;
    if (this.keys === "") this.keysAt = this.now();
    this.keys += text;
    if (this.keys.length >= 1024) this.flushInput();
    else this.keysTimer ??= setTimeout(() => this.flushInput(), 250);
  }

  /** Queues the batched keystrokes now. */
  flushInput() {
    if (this.keysTimer) clearTimeout(this.keysTimer);
    this.keysTimer = undefined;
    if (this.keys === "" || this.failed) return;
    const text = this.hooks.maskInput(this.keys);
    this.keys = "";
    this.pending.push({
      type: "input",
      text,
      data: { t: this.keysAt, data: text },
      counters: undefined,
      after: [],
    });
    this.pendingChars += text.length;
    this.pump();
  }

  /** Records a run of text ("output" or "input"), coalescing with the previous unwritten event of that type. */
  text(type: "output" | "input", text: string, maskedFields = 0) {
    if (this.failed || text === "") return;
    // A `masked` marker may trail the output it describes; more output still joins that output.
    let marker = this.pending.at(-1);
    if (marker?.type !== "masked" || type !== "output") marker = undefined;
    const last = this.pending.at(marker ? -2 : -1);
    const max = type === "output" ? MAX_OUTPUT_EVENT_CHARS : MAX_EVENT_CHARS;
    if (last && last.type === type && !last.isClosed && last.text.length + text.length <= max) {
      last.text += text;
      last.data.data = last.text;
    } else {
      this.pending.push({ type, text, data: { t: this.now(), data: text }, counters: undefined, after: [] });
      marker = undefined;
    }
    if (maskedFields > 0) this.markMasked(marker, maskedFields);
    this.pendingChars += text.length;
    if (type === "output") {
      this.outputChars += text.length;
      if (this.schedule.isDue(this.outputChars, this.now())) this.queueKeyframe();
    }
    this.pump();
  }

  /** Counts fields masked in the output just queued, on the marker that follows it. */
  private markMasked(marker: Pending | undefined, fields: number) {
    if (marker) {
      marker.data.fields = Number(marker.data.fields ?? 0) + fields;
      marker.counters = { maskedFields: (marker.counters?.maskedFields ?? 0) + fields };
      return;
    }
    this.pending.push({
      type: "masked",
      text: "",
      data: { t: this.now(), fields },
      counters: { maskedFields: fields },
      after: [],
    });
  }

  /**
   * Asks for the screen as it is after everything queued so far, and closes the output event that ends here.
   * The keyframe is queued once both the screen's answer and that event's id are in: output after it is
   * written and sent meanwhile, and replay places the keyframe by the event it names, not by its own place.
   */
  private queueKeyframe() {
    const capture = this.hooks.captureKeyframe;
    const output = this.pending.findLast((p) => p.type === "output");
    if (!capture || !output) return;
    output.isClosed = true;
    const t = this.now();
    const offset = this.outputChars;
    this.schedule.taken(offset, t);
    this.keyframesOut++;
    let state: KeyframeState | undefined | null = null;
    let afterEventId: number | undefined;
    const settle = () => {
      if (state === null || afterEventId === undefined) return;
      this.keyframesOut--;
      if (state && !this.failed)
        this.pending.push({
          type: "keyframe",
          text: "",
          data: { t, offset, afterEventId, ...state },
          counters: undefined,
          after: [],
        });
      this.pump();
    };
    output.stored = (id) => {
      afterEventId = id;
      settle();
    };
    capture((captured) => {
      state = captured;
      if (!captured) this.schedule.missed();
      settle();
    });
  }

  /** Records a structured event; resolves once it is stored (write-ahead for command decisions). */
  event(type: TerminalEventType, data: Record<string, unknown>, counters?: SessionCounters): Promise<void> {
    this.flushInput();
    return new Promise((resolve, reject) => {
      if (this.failed) {
        reject(this.failed);
        return;
      }
      this.pending.push({
        type,
        text: "",
        data: { t: this.now(), ...data },
        counters,
        after: [resolve],
        fail: reject,
      });
      this.pump();
    });
  }

  /** Resolves when everything queued so far is stored. */
  drained(): Promise<void> {
    this.flushInput();
    if (this.failed || (!this.writing && this.pending.length === 0 && this.keyframesOut === 0))
      return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Writes every queued event at once: the appends are handed to the recorder's group commit in the same
   * turn, in order, so they go to the store as one transaction (one commit) and take consecutive places in the
   * session's chain. Each output is sent once its own event and every event before it are stored; after a
   * refused write nothing more is sent.
   */
  private pump() {
    if (this.writing || this.failed) return;
    const batch = this.pending.splice(0);
    for (const item of batch) this.pendingChars -= item.text.length;
    if (batch.length === 0) {
      if (this.keyframesOut > 0) return;
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
      return;
    }
    this.writing = true;
    const writes = batch.map((item) =>
      appendSessionEvent(this.sessionId, item.type, item.data, item.counters),
    );
    void Promise.allSettled(writes).then((results) => {
      this.writing = false;
      for (const [i, item] of batch.entries()) {
        const result = results[i];
        if (result?.status !== "fulfilled") {
          this.fail(result?.reason, batch.slice(i));
          return;
        }
        if (item.type === "output") this.hooks.onOutputStored(item.text);
        item.stored?.(result.value);
        for (const after of item.after) after();
      }
      this.pump();
      this.hooks.onStored?.();
    });
  }

  /** A write was refused: the recording ends here, and everything not yet stored in order is refused. */
  private fail(error: unknown, unsent: Pending[]) {
    const failed = error instanceof Error ? error : new Error(String(error));
    this.failed = failed;
    const lost = [...unsent, ...this.pending];
    this.pending.length = 0;
    for (const p of lost) p.fail?.(failed);
    // A keyframe still asked for is dropped when its answer comes: nothing more is stored.
    for (const p of lost) p.stored?.(-1);
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
    this.hooks.onFailure(failed);
  }
}
