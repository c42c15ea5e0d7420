/**
 * An extended-protocol portal's result streamed (decision 0028, session 11): the pipeline's ResultSink for one
 * Execute and those that continue it. Each Execute asks for `maxRows` rows (0: all of them); once they have left
 * the stream suspends, holding the batch it was given (at most one batch: the target's socket is paused behind
 * it, row-stream.ts), until the next Execute asks for more (`more`), its client closes it (`close`), or another
 * statement needs the session the read runs on (`hold`: the rest is read into memory, masked, up to a limit,
 * and served from there). Not responsible for the protocol's replies around the rows (PortalSuspended,
 * CommandComplete, errors: extended-protocol.ts), nor for masking or recording (the pipeline).
 */
import "server-only";
import { PortalClosed, type ResultColumn, type ResultSink } from "@/server/pipeline";
import type { NativeHost } from "./native-host";
import { WireResultStream } from "./result-stream";
import type { WireColumn } from "./wire";

/** An Execute's rows have left, more wait (PortalStream.until). */
export const SUSPENDED = Symbol("suspended");

export class PortalStream implements ResultSink<ResultColumn> {
  private readonly wire: WireResultStream;
  /** rows the current Execute still asks for (Infinity: to the end) */
  private demand: number;
  /** why the read is to stop (thrown to the pipeline at its next batch) */
  private stop: Error | undefined;
  private resume: (() => void) | undefined;
  private onSuspend: (() => void) | undefined;
  /** are the rows asked for all sent, more waiting? */
  isSuspended = false;
  /** once `hold` was called: the rest of the result, masked, kept for the Executes to come */
  held: unknown[][] | undefined;
  /** rows the stream may hold (`hold`); past them the read is stopped */
  private readonly holdLimit: number;
  /** did the held rows reach `holdLimit` (the read stopped before its end)? */
  isCut = false;
  /** rows given to the client so far: sent, or held to be sent by the Executes to come */
  rowsSent = 0;

  constructor(
    client: Pick<NativeHost, "o" | "closed">,
    head: (columns: WireColumn[]) => Buffer,
    maxRows: number,
    holdLimit: number,
  ) {
    this.wire = new WireResultStream(client, undefined, head);
    this.demand = maxRows > 0 ? maxRows : Number.POSITIVE_INFINITY;
    this.holdLimit = holdLimit;
  }

  get isGone(): boolean {
    return this.wire.isGone;
  }

  start(columns: ResultColumn[]) {
    this.wire.start(columns);
  }

  async write(rows: unknown[][]) {
    let at = 0;
    while (at < rows.length) {
      if (this.stop) throw this.stop;
      if (this.held) {
        const room = this.holdLimit - this.held.length;
        const kept = Math.min(room, rows.length - at);
        for (let i = at; i < at + kept; i++) this.held.push(rows[i] ?? []);
        this.rowsSent += kept;
        if (kept < rows.length - at) {
          this.isCut = true;
          throw new PortalCut();
        }
        return;
      }
      if (this.demand === 0) {
        await this.suspend();
        continue;
      }
      const n = Math.min(this.demand, rows.length - at);
      await this.wire.write(at === 0 && n === rows.length ? rows : rows.slice(at, at + n));
      this.demand -= n;
      this.rowsSent += n;
      at += n;
    }
  }

  /**
   * What the portal's run (`running`) settles with, or SUSPENDED as soon as the rows this Execute asked for have
   * all left and more wait: the one await of an Execute.
   */
  until<T>(running: Promise<T>): Promise<T | typeof SUSPENDED> {
    return new Promise((resolve, reject) => {
      this.onSuspend = () => resolve(SUSPENDED);
      running.then(resolve, reject);
    });
  }

  /** The next Execute: `maxRows` more rows (0: the rest). */
  more(maxRows: number) {
    this.demand = maxRows > 0 ? maxRows : Number.POSITIVE_INFINITY;
    this.wake();
  }

  /** Another statement needs the session: the rest of the result is read into `held` (up to the limit). */
  hold() {
    this.held = [];
    this.wake();
  }

  /** Stops the read at its next batch (the target's query is cancelled there): `reason` is what stops it. */
  close(reason: Error) {
    this.stop = reason;
    this.wake();
  }

  private suspend(): Promise<void> {
    const resumed = new Promise<void>((resolve) => {
      this.resume = resolve;
    });
    this.isSuspended = true;
    const suspended = this.onSuspend;
    this.onSuspend = undefined;
    suspended?.();
    return resumed;
  }

  private wake() {
    this.isSuspended = false;
    const resume = this.resume;
    this.resume = undefined;
    resume?.();
  }
}

/** A held rest that reached its limit: the read stops there (the Executes then get 54000 after the rows held). */
export class PortalCut extends PortalClosed {
  constructor() {
    super(
      "the portal's rest was held in memory while another statement ran, and was cut at MAX_ROW_LIMIT rows",
    );
  }
}
