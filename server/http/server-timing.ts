/**
 * Stage timings for one request, sent back as a `Server-Timing` header (browsers' developer tools show it;
 * `npm run bench:sql` prints the median of each stage). Names are stable tokens; durations in milliseconds.
 * Not responsible for deciding what a stage is: callers mark the end of each one.
 */
/** When each request reached the gateway, as noted by the server that received it (see StageTimer.since). */
const arrivals = new WeakMap<Request, number>();

/** Notes that `request` arrived at `at` (performance.now()), so its timer can count what came before the handler. */
export function noteArrival(request: Request, at: number): void {
  arrivals.set(request, at);
}

export class StageTimer {
  private last = performance.now();
  private readonly stages: [string, number][] = [];

  /**
   * A timer whose first stage starts when `request` arrived (noted by the data-path server: reading the body,
   * authentication and parsing it are then the first stage), or now when nobody noted it.
   */
  static since(request: Request): StageTimer {
    const timer = new StageTimer();
    const arrived = arrivals.get(request);
    if (arrived !== undefined && arrived <= timer.last) timer.last = arrived;
    return timer;
  }

  /** Ends the stage that began at the previous mark (or at construction) and names it. */
  mark(name: string): void {
    const now = performance.now();
    const entry = this.stages.find(([n]) => n === name);
    if (entry) entry[1] += now - this.last;
    else this.stages.push([name, now - this.last]);
    this.last = now;
  }

  /**
   * Moves `ms` of stage `from` to stage `to` (work done inside another stage, e.g. masking batches while the
   * target's rows are read, measured by the caller). Never leaves `from` below zero.
   */
  reassign(ms: number, from: string, to: string): void {
    const source = this.stages.find(([n]) => n === from);
    if (!source) return;
    const moved = Math.min(Math.max(0, ms), source[1]);
    source[1] -= moved;
    const target = this.stages.find(([n]) => n === to);
    if (target) target[1] += moved;
    else this.stages.push([to, moved]);
  }

  header(): string {
    return this.stages.map(([name, ms]) => `${name};dur=${ms.toFixed(2)}`).join(", ");
  }
}

/** Parses a Server-Timing header into name → milliseconds (what a client or the benchmark reads). */
export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().split(";");
    if (!name) continue;
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
    const ms = dur ? Number(dur.slice(4)) : Number.NaN;
    if (Number.isFinite(ms)) out[name] = (out[name] ?? 0) + ms;
  }
  return out;
}
