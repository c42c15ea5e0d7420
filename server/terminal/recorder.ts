/**
 * Write-then-send recording of a terminal session. Every event (output, input, resize, command decision)
 * is appended to the session's events in order, and output reaches the browser only after the event that
 * holds it is stored. Writes are group-committed: while one write is in flight, what arrives next is
 * coalesced (output up to 32 KB per event), so an idle keystroke costs one write and bulk output is
 * written in large events. A crash loses at most the event being written plus what waits behind it,
 * and none of that was shown. Not responsible for masking: it is handed text that is already masked.
 */
import "server-only";
import { appendSessionEvent, type SessionCounters } from "@/server/recording";

export type TerminalEventType = "output" | "input" | "resize" | "command" | "notice" | "review";

interface Pending {
  type: TerminalEventType;
  data: Record<string, unknown>;
  text: string;
  counters: SessionCounters | undefined;
  after: (() => void)[];
  fail?: (error: Error) => void;
}

/** Largest output or input event; bigger runs are split. */
export const MAX_EVENT_CHARS = 32 * 1024;

export class Recorder {
  private readonly pending: Pending[] = [];
  private writing = false;
  private failed: Error | undefined;
  private idle: (() => void)[] = [];
  /** Characters waiting to be written (for back-pressure on the target). */
  pendingChars = 0;
  /** Keystrokes not yet queued: they need not precede anything, so they wait for a batch of their own. */
  private keys = "";
  private keysAt = 0;
  private keysTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessionId: string,
    private readonly startedAt: number,
    private readonly hooks: {
      /** Output that is now stored, to send to the browser. */
      onOutputStored: (text: string) => void;
      /** Applied to a batch of keystrokes before it is stored (masking what was typed or pasted). */
      maskInput: (text: string) => string;
      onFailure: (error: Error) => void;
    },
  ) {}

  /** Seconds since the session started, as asciicast counts them. */
  now(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1e6;
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
    const last = this.pending[this.pending.length - 1];
    if (last && last.type === type && last.text.length + text.length <= MAX_EVENT_CHARS) {
      last.text += text;
      last.data.data = last.text;
    } else {
      this.pending.push({ type, text, data: { t: this.now(), data: text }, counters: undefined, after: [] });
    }
    const item = this.pending[this.pending.length - 1];
    if (item && maskedFields > 0) {
      item.counters = { maskedFields: (item.counters?.maskedFields ?? 0) + maskedFields };
    }
    this.pendingChars += text.length;
    this.pump();
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
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump() {
    if (this.writing || this.failed) return;
    const item = this.pending.shift();
    if (!item) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
      return;
    }
    this.writing = true;
    appendSessionEvent(this.sessionId, item.type, item.data, item.counters).then(
      () => {
        this.writing = false;
        this.pendingChars -= item.text.length;
        if (item.type === "output") this.hooks.onOutputStored(item.text);
        for (const after of item.after) after();
        this.pump();
      },
      (error: unknown) => {
        this.writing = false;
        const failed = error instanceof Error ? error : new Error(String(error));
        this.failed = failed;
        for (const p of [item, ...this.pending]) p.fail?.(failed);
        this.pending.length = 0;
        const waiting = this.idle;
        this.idle = [];
        for (const resolve of waiting) resolve();
        this.hooks.onFailure(failed);
      },
    );
  }
}
