/**
 * The gateway's screens of its terminals (@xterm/headless), as the screen worker holds them: one emulator per
 * session, fed the session's output in order, and questions about it (where the prompt is, the command line on
 * screen, the alternate screen, bracketed paste, a keyframe) answered only once everything written before the
 * question is parsed, so an answer is about exactly the output that preceded it. Plain messages in and out: it
 * runs in the worker thread (screen-worker.ts) and, for tests, on the calling thread alike.
 * Not responsible for the thread, nor for what a session does with the answers (terminal-session.ts).
 */
import "server-only";
import xtermHeadless, { type Terminal } from "@xterm/headless";
import { isParserIdle, type KeyframeState, keyframeCapturer } from "./keyframes";
import { captureAnchor, isAlternateScreen, type PromptAnchor, readCommandLine } from "./prompt";

const { Terminal: HeadlessTerminal } = xtermHeadless;

/** What can be asked of a screen, and what each answer is. */
export interface ScreenAnswers {
  /** everything written so far is parsed */
  parsed: undefined;
  alternate: boolean;
  bracketedPaste: boolean;
  /** where typing starts now; undefined on the alternate screen (full-screen programs are not inspected) */
  anchor: PromptAnchor | undefined;
  line: string;
  /** undefined when the parser is mid-sequence */
  keyframe: KeyframeState | undefined;
  text: string;
}
export type ScreenQuestion =
  | { kind: "parsed" | "alternate" | "bracketedPaste" | "anchor" | "keyframe" | "text" }
  | { kind: "line"; anchor: PromptAnchor | undefined };

export type ScreenRequest =
  | { op: "open"; screen: number; cols: number; rows: number }
  | { op: "write"; screen: number; data: string }
  | { op: "resize"; screen: number; cols: number; rows: number }
  | { op: "close"; screen: number }
  | { op: "ask"; screen: number; id: number; question: ScreenQuestion };

export type ScreenReply = { id: number; answer: unknown } | { id: number; error: string };

interface Held {
  term: Terminal;
  serialize: () => KeyframeState;
}

function answer(held: Held, question: ScreenQuestion): unknown {
  const { term } = held;
  switch (question.kind) {
    case "parsed":
      return undefined;
    case "alternate":
      return isAlternateScreen(term);
    case "bracketedPaste":
      return term.modes.bracketedPasteMode;
    case "anchor":
      return isAlternateScreen(term) ? undefined : captureAnchor(term);
    case "line":
      return readCommandLine(term, question.anchor);
    case "keyframe":
      return isParserIdle(term) ? held.serialize() : undefined;
    case "text": {
      const buffer = term.buffer.active;
      const lines: string[] = [];
      for (let y = 0; y < term.rows; y++)
        lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? "");
      return lines.join("\n");
    }
  }
}

/** The screens of one thread, driven by requests; `reply` gets each question's answer, in order per screen. */
export class ScreenModels {
  private readonly screens = new Map<number, Held>();

  constructor(private readonly reply: (reply: ScreenReply) => void) {}

  handle(request: ScreenRequest) {
    if (request.op === "open") {
      const term = new HeadlessTerminal({
        cols: request.cols,
        rows: request.rows,
        scrollback: 1000,
        allowProposedApi: true,
      });
      this.screens.set(request.screen, { term, serialize: keyframeCapturer(term) });
      return;
    }
    const held = this.screens.get(request.screen);
    if (!held) {
      if (request.op === "ask") this.reply({ id: request.id, error: "this terminal's screen is closed" });
      return;
    }
    switch (request.op) {
      case "write":
        held.term.write(request.data);
        return;
      case "resize":
        held.term.write("", () => held.term.resize(request.cols, request.rows));
        return;
      case "close":
        this.screens.delete(request.screen);
        held.term.write("", () => held.term.dispose());
        return;
      case "ask":
        held.term.write("", () => {
          try {
            this.reply({ id: request.id, answer: answer(held, request.question) });
          } catch (error) {
            this.reply({ id: request.id, error: error instanceof Error ? error.message : String(error) });
          }
        });
    }
  }
}
