/**
 * The gateway's screen of one terminal, emulated off the console's main thread: output is posted to the screen
 * worker (screen-worker.ts, one per process, holding every session's emulator) and parsed there while this
 * thread masks, records and sends the next output. Questions (the prompt, the command line, a keyframe) are
 * answered by the worker once it has parsed everything posted before them, so an answer is about exactly the
 * output that preceded the question, as when the emulator ran here. Fail closed: if the worker fails, every
 * question waiting is refused and each session told (it ends); the next session starts a new worker.
 * Not responsible for what is on the screen (screen-model.ts, prompt.ts, keyframes.ts).
 */
import "server-only";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { processSingleton } from "@/server/singleton";
import type { KeyframeState } from "./keyframes";
import type { PromptAnchor } from "./prompt";
import type { ScreenQuestion, ScreenReply, ScreenRequest } from "./screen-model";

interface Waiting {
  resolve(answer: unknown): void;
  reject(error: Error): void;
}

class ScreenThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  /** each open screen's owner, told when the worker fails */
  private readonly owners = new Map<number, (error: Error) => void>();
  private nextId = 1;
  private nextScreen = 1;

  start(): Worker {
    if (this.worker) return this.worker;
    // The path is built at run time: Next's bundler must not try to bundle the worker (it runs from source).
    const entry = [process.cwd(), "server", "terminal", "screen-worker-entry.mjs"].join(path.sep);
    const WorkerThread = Worker;
    const worker = new WorkerThread(entry, { execArgv: [] });
    worker.unref();
    worker.on("message", (reply: ScreenReply) => {
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.waiting.delete(reply.id);
      if ("error" in reply) waiting.reject(new Error(`the gateway's screen failed: ${reply.error}`));
      else waiting.resolve(reply.answer);
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const failed = new Error(`the gateway's screen emulation stopped: ${error.message}`);
      const waiting = [...this.waiting.values()];
      const owners = [...this.owners.values()];
      this.waiting.clear();
      this.owners.clear();
      for (const w of waiting) w.reject(failed);
      for (const tell of owners) tell(failed);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  open(cols: number, rows: number, onFailure: (error: Error) => void): number {
    const screen = this.nextScreen++;
    this.owners.set(screen, onFailure);
    this.start().postMessage({ op: "open", screen, cols, rows } satisfies ScreenRequest);
    return screen;
  }

  post(request: Exclude<ScreenRequest, { op: "open" | "ask" }>) {
    if (!this.owners.has(request.screen)) return;
    if (request.op === "close") this.owners.delete(request.screen);
    this.worker?.postMessage(request);
  }

  ask(screen: number, question: ScreenQuestion): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.owners.has(screen) || !this.worker) {
        reject(new Error("the gateway's screen is closed"));
        return;
      }
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ op: "ask", screen, id, question } satisfies ScreenRequest);
    });
  }

  /** Stops the worker as a crash would (for the fail-closed test). */
  async crash(): Promise<void> {
    await this.worker?.terminate();
  }
}

const thread = processSingleton("terminalScreens", () => new ScreenThread());

/** Starts the screen worker now, so the first terminal does not wait for it (loading it takes a while). */
export function warmScreenWorker(): void {
  thread.start();
}

/** Ends the screen worker as a crash would: every open screen's owner is told (tests only). */
export function crashScreenWorker(): Promise<void> {
  return thread.crash();
}

/** Output posted to the worker at once beyond this; smaller pieces are joined and posted on the next turn. */
const POST_CHARS = 256 * 1024;

export class GatewayScreen {
  private readonly screen: number;
  /** Output not yet posted: one message per turn of the event loop, not one per chunk from the target. */
  private unposted = "";
  private isPostScheduled = false;

  /** `onFailure` is called once if the worker stops while this screen is open. */
  constructor(cols: number, rows: number, onFailure: (error: Error) => void) {
    this.screen = thread.open(cols, rows, onFailure);
  }

  write(data: string) {
    this.unposted += data;
    if (this.unposted.length >= POST_CHARS) this.post();
    else if (!this.isPostScheduled) {
      this.isPostScheduled = true;
      setImmediate(() => {
        this.isPostScheduled = false;
        this.post();
      });
    }
  }

  /** Posts the output written so far (before any other request, so the worker sees everything in order). */
  private post() {
    if (this.unposted === "") return;
    const data = this.unposted;
    this.unposted = "";
    thread.post({ op: "write", screen: this.screen, data });
  }

  /** Resizes once everything written so far is parsed. */
  resize(cols: number, rows: number) {
    this.post();
    thread.post({ op: "resize", screen: this.screen, cols, rows });
  }

  close() {
    this.post();
    thread.post({ op: "close", screen: this.screen });
  }

  private ask(question: ScreenQuestion): Promise<unknown> {
    this.post();
    return thread.ask(this.screen, question);
  }

  /** Resolves when everything written so far is parsed. */
  async parsed(): Promise<void> {
    await this.ask({ kind: "parsed" });
  }

  async isAlternate(): Promise<boolean> {
    return (await this.ask({ kind: "alternate" })) as boolean;
  }

  async isBracketedPaste(): Promise<boolean> {
    return (await this.ask({ kind: "bracketedPaste" })) as boolean;
  }

  /** Where typing starts now; undefined on the alternate screen. */
  async anchor(): Promise<PromptAnchor | undefined> {
    return (await this.ask({ kind: "anchor" })) as PromptAnchor | undefined;
  }

  async readCommandLine(anchor: PromptAnchor | undefined): Promise<string> {
    return (await this.ask({ kind: "line", anchor })) as string;
  }

  /** The screen serialized after everything written so far; undefined when the parser is mid-sequence. */
  async keyframe(): Promise<KeyframeState | undefined> {
    return (await this.ask({ kind: "keyframe" })) as KeyframeState | undefined;
  }

  /** The visible screen's text (for tests). */
  async text(): Promise<string> {
    return (await this.ask({ kind: "text" })) as string;
  }
}
