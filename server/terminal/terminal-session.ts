/**
 * One browser terminal: a shell on an SSH connection, with the gateway in the middle.
 *   output: target -> streaming masker -> gateway's screen emulation (@xterm/headless) -> recording -> browser
 *   input:  browser -> (at Enter: read the command line from the screen, decide by command rules, record the
 *           decision) -> target
 * Output is written to the recording before it is sent (recorder.ts). A denied or held line is not sent: the
 * gateway kills what was typed on the remote side (Ctrl-E Ctrl-U) and prints why in the terminal.
 * Fail closed: a recording or rules-store failure ends the session. Not responsible for the WebSocket
 * (socket.ts) or for authenticating the caller (server/realtime does).
 */
import "server-only";
import { StringDecoder } from "node:string_decoder";
import xtermHeadless, { type Terminal } from "@xterm/headless";
import type { Principal } from "@/server/auth/principal";
import {
  type ConnectionView,
  getConnectionForUse,
  openConnectionSecret,
  pinHostKey,
} from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { createStreamMasker, type MaskingConfig, maskText, type StreamMasker } from "@/server/masking";
import { maskingConfigFor } from "@/server/masking-config";
import { DECISION_SEVERITY } from "@/server/policy";
import { appendSessionEvent, endSession, startSession } from "@/server/recording";
import { type CommandDecision, evaluateCommandLine, isIncompleteLine } from "./command-policy";
import { loadCommandRules } from "./command-rules-store";
import { isParserIdle, type KeyframeState, keyframeCapturer } from "./keyframes";
import { describeDuration, type TerminalLimits, terminalLimits } from "./limits";
import { captureAnchor, isAlternateScreen, type PromptAnchor, readCommandLine, TypedLine } from "./prompt";
import { Recorder } from "./recorder";
import { type LiveTerminal, registerLiveTerminal, unregisterLiveTerminal } from "./registry";
import { type OpenShell, openShell } from "./ssh-shell";

const { Terminal: HeadlessTerminal } = xtermHeadless;

/** Messages the gateway sends the browser besides output. */
export type TerminalControl =
  | {
      type: "ready";
      sessionId: string;
      connection: string;
      host: string;
      username: string;
      user: string;
      isRecording: true;
      idleTimeoutSeconds: number;
      maxDurationSeconds: number;
    }
  | { type: "ended"; reason: string };

/** The browser side, as the session sees it (socket.ts adapts a WebSocket; tests use a fake). */
export interface TerminalClient {
  /** Masked output that is already recorded. */
  output(data: string): void;
  control(message: TerminalControl): void;
  close(): void;
  /** Bytes queued towards the browser, for back-pressure. */
  bufferedAmount(): number;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** Output held by the masker (a token that could start a card number) is released after this quiet time. */
const HOLD_MS = 12;
/** Small output this soon after a keystroke is its echo and is released at once. */
const ECHO_WINDOW_MS = 200;
/** Keys that make a shell run the line: Enter, Ctrl-J, and readline's Ctrl-O (operate-and-get-next). */
const ACCEPT_KEYS = ["\r", "\n", "\u000f"];
const PASSWORD_PROMPT = /(password|passphrase|passcode|\bpin\b)[^:\n]{0,60}:\s*$/i;
const RED = "\u001b[1;31m";
const YELLOW = "\u001b[1;33m";
const RESET = "\u001b[0m";

export const REVIEW_NOTICE = "held for approval (approvals are not wired for terminals yet)";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function clampSize(size: Partial<TerminalSize>): TerminalSize {
  const clamp = (n: unknown, lo: number, hi: number, dflt: number) =>
    typeof n === "number" && Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.floor(n))) : dflt;
  return { cols: clamp(size.cols, 10, 1000, 80), rows: clamp(size.rows, 2, 500, 24) };
}

export class TerminalSession {
  readonly sessionId: string;
  private readonly term: Terminal;
  private readonly masker: StreamMasker;
  private readonly decoder = new StringDecoder("utf8");
  private readonly typed = new TypedLine();
  private anchor: PromptAnchor | undefined;
  private isHiddenInput = false;
  private isInPaste = false;
  /** Earlier lines of a command the shell is still reading (open quote, trailing backslash or pipe). */
  private continuation = "";
  private inputChain: Promise<void> = Promise.resolve();
  private lastForwardAt = 0;
  private lastOutputAt = 0;
  private lastInputAt = Date.now();
  private maskedFields = 0;
  private isInPem = false;
  private pemTail = "";
  private flushTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private isPaused = false;
  private isEnded = false;
  private size: TerminalSize;
  private live: LiveTerminal | undefined;
  private readonly serializeScreen: () => KeyframeState;

  private constructor(
    private readonly principal: Principal,
    private readonly connection: ConnectionView,
    private readonly shell: OpenShell,
    private readonly recorder: Recorder,
    private readonly client: TerminalClient,
    private readonly limits: TerminalLimits,
    private readonly maskingConfig: MaskingConfig,
    sessionId: string,
    size: TerminalSize,
  ) {
    this.sessionId = sessionId;
    this.size = size;
    this.term = new HeadlessTerminal({
      cols: size.cols,
      rows: size.rows,
      scrollback: 1000,
      allowProposedApi: true,
    });
    this.serializeScreen = keyframeCapturer(this.term);
    this.masker = createStreamMasker(maskingConfig, {
      onFinding: () => {
        this.maskedFields++;
      },
    });
  }

  /** Opens the shell and the recording; throws a GatewayError a person can read when it cannot. */
  static async start(
    principal: Principal,
    connectionName: string,
    requestedSize: Partial<TerminalSize>,
    client: TerminalClient,
  ): Promise<TerminalSession> {
    const size = clampSize(requestedSize);
    const connection = await getConnectionForUse(principal, connectionName);
    if (connection.kind !== "ssh") {
      throw new GatewayError(
        "bad_request",
        `${connectionName} is a PostgreSQL connection; open it in the SQL editor`,
      );
    }
    const { row, secret } = await openConnectionSecret(connection.id);
    // Read once per session: a masking change applies to the next session.
    const maskingConfig = await maskingConfigFor(connection.id);
    const sessionId = await startSession(principal, connection, "terminal", "terminal");
    await appendSessionEvent(sessionId, "resize", { t: 0, cols: size.cols, rows: size.rows });
    let shell: OpenShell;
    try {
      shell = await openShell(row, secret, size);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await appendSessionEvent(sessionId, "notice", { t: 0, level: "error", message }).catch(() => {});
      await endSession(sessionId, "failed").catch(() => {});
      throw error;
    }
    if (shell.isNewHostKey && shell.hostKey) await pinHostKey(connection.id, shell.hostKey);
    const startedAt = performance.now();
    let session: TerminalSession | undefined;
    const recorder = new Recorder(sessionId, startedAt, {
      onOutputStored: (text) => session?.client.output(text),
      maskInput: (text) => maskText(text, maskingConfig).text,
      onFailure: (error) => {
        console.error(`[portcullis] terminal ${sessionId}: recording failed:`, error);
        void session?.end("the recording failed, so the session cannot continue", "failed");
      },
      captureKeyframe: (done) => (session ? session.captureKeyframe(done) : done(undefined)),
    });
    session = new TerminalSession(
      principal,
      connection,
      shell,
      recorder,
      client,
      terminalLimits(row.options),
      maskingConfig,
      sessionId,
      size,
    );
    session.wire();
    return session;
  }

  private wire() {
    const { stream } = this.shell;
    stream.on("data", (chunk: Buffer) => this.onTargetData(chunk));
    stream.stderr.on("data", (chunk: Buffer) => this.onTargetData(chunk));
    stream.on("close", () => void this.end("the remote shell ended"));
    this.shell.client.on("error", () => void this.end("the connection to the server was lost", "failed"));
    this.shell.client.on("close", () => void this.end("the connection to the server closed"));
    this.timers.push(
      setTimeout(
        () =>
          void this.end(`the session reached its maximum duration of ${describeDuration(this.limits.maxMs)}`),
        this.limits.maxMs,
      ),
      setInterval(
        () => {
          if (Date.now() - this.lastInputAt >= this.limits.idleMs)
            void this.end(`idle for ${describeDuration(this.limits.idleMs)}`);
        },
        Math.min(5000, this.limits.idleMs),
      ),
    );
    const now = new Date();
    this.live = {
      sessionId: this.sessionId,
      principalId: this.principal.id,
      principalLabel: this.principal.email,
      connectionName: this.connection.name,
      host: this.connection.host,
      username: this.connection.username,
      startedAt: now,
      lastInputAt: now,
      cols: this.size.cols,
      rows: this.size.rows,
      end: (reason) => void this.end(reason),
    };
    registerLiveTerminal(this.live);
    this.client.control({
      type: "ready",
      sessionId: this.sessionId,
      connection: this.connection.name,
      host: this.connection.host,
      username: this.connection.username,
      user: this.principal.email,
      isRecording: true,
      idleTimeoutSeconds: this.limits.idleMs / 1000,
      maxDurationSeconds: this.limits.maxMs / 1000,
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Output

  private onTargetData(chunk: Buffer) {
    if (this.isEnded) return;
    this.lastOutputAt = performance.now();
    const text = this.decoder.write(chunk);
    this.trackPem(text);
    let masked = this.masker.push(text);
    if (chunk.length <= 64 && this.lastOutputAt - this.lastForwardAt < ECHO_WINDOW_MS && !this.isInPem) {
      masked += this.masker.flush();
    } else this.scheduleFlush();
    if (masked) this.emit(masked);
    this.checkPressure();
  }

  /** Whether a private key is being printed (the masker then holds nothing, and must not be flushed). */
  private trackPem(text: string) {
    const s = this.pemTail + text;
    const begin = s.lastIndexOf("-----BEGIN");
    const end = s.lastIndexOf("-----END");
    if (begin > end) {
      const header = s.slice(begin);
      this.isInPem = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(header) || header.length < 60;
    } else if (end > begin) this.isInPem = false;
    this.pemTail = s.slice(-100);
  }

  private scheduleFlush() {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.releaseHeld();
    }, HOLD_MS);
  }

  private releaseHeld() {
    if (this.isInPem || this.isEnded) return;
    const rest = this.masker.flush();
    if (rest) this.emit(rest);
  }

  /** Text for the browser: into the gateway's screen, then recorded, then sent. */
  private emit(text: string) {
    this.term.write(text);
    const masked = this.maskedFields;
    this.maskedFields = 0;
    this.recorder.text("output", text, masked);
  }

  private checkPressure() {
    const isHigh = () => this.recorder.pendingChars > 1_000_000 || this.client.bufferedAmount() > 4_000_000;
    if (this.isPaused || !isHigh()) return;
    this.isPaused = true;
    this.shell.stream.pause();
    const timer = setInterval(() => {
      if (
        this.isEnded ||
        (this.recorder.pendingChars < 256_000 && this.client.bufferedAmount() < 1_000_000)
      ) {
        clearInterval(timer);
        this.isPaused = false;
        if (!this.isEnded) this.shell.stream.resume();
      }
    }, 5);
  }

  /** The screen for a keyframe once it has parsed everything written so far (none mid-sequence or ending). */
  private captureKeyframe(done: (state: KeyframeState | undefined) => void) {
    this.term.write("", () =>
      done(!this.isEnded && isParserIdle(this.term) ? this.serializeScreen() : undefined),
    );
  }

  /** Resolves when everything written to the gateway's screen so far is parsed. */
  private parsed(): Promise<void> {
    return new Promise((resolve) => this.term.write("", resolve));
  }

  /** Waits until the target's echo of the last keystrokes has arrived and gone quiet (bounded). */
  private async settle(maxMs = 300, quietMs = 15) {
    const start = performance.now();
    for (;;) {
      const now = performance.now();
      if (this.lastOutputAt >= this.lastForwardAt && now - this.lastOutputAt >= quietMs) break;
      if (now - Math.max(this.lastForwardAt, start) >= maxMs) break;
      await sleep(5);
    }
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.releaseHeld();
    await this.parsed();
  }

  // ---------------------------------------------------------------------------------------------------
  // Input

  /** Keystrokes from the browser, handled strictly in order. */
  input(data: string) {
    if (this.isEnded) return;
    this.lastInputAt = Date.now();
    if (this.live) this.live.lastInputAt = new Date(this.lastInputAt);
    this.inputChain = this.inputChain
      .then(() => this.handleInput(data))
      .catch((error: unknown) => {
        console.error(`[portcullis] terminal ${this.sessionId}: input failed:`, error);
        void this.end("the gateway could not check a command, so the session cannot continue", "failed");
      });
  }

  private async handleInput(data: string) {
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      // Paste markers count only when the remote asked for bracketed paste (else its shell would run each line).
      if (data.startsWith("\u001b[200~", i) || data.startsWith("\u001b[201~", i)) {
        await this.parsed();
        this.isInPaste = data[i + 4] === "0" && this.term.modes.bracketedPasteMode;
      }
      const c = data[i] ?? "";
      if (ACCEPT_KEYS.includes(c) && !this.isInPaste) {
        await this.forward(data.slice(start, i));
        if (this.isEnded) return;
        await this.enter(c);
        start = i + 1;
      }
    }
    await this.forward(data.slice(start));
  }

  private async forward(text: string) {
    if (text === "" || this.isEnded) return;
    if (!this.anchor) {
      await this.parsed();
      if (!isAlternateScreen(this.term)) {
        this.anchor = captureAnchor(this.term);
        this.isHiddenInput = PASSWORD_PROMPT.test(this.anchor.prompt);
      }
    }
    this.typed.feed(text);
    this.recorder.input(this.isHiddenInput ? text.replace(/[\p{L}\p{N}\p{P}\p{S} ]/gu, "*") : text);
    this.shell.stream.write(text);
    this.lastForwardAt = performance.now();
    if (text.includes("\u0003")) this.resetLine(true);
  }

  private resetLine(clearContinuation: boolean) {
    this.anchor = undefined;
    this.isHiddenInput = false;
    this.typed.reset();
    if (clearContinuation) this.continuation = "";
  }

  private async enter(key: string) {
    await this.parsed();
    if (isAlternateScreen(this.term) || !this.anchor) {
      // Full-screen programs are not inspected; an Enter with nothing typed runs nothing new.
      this.shell.stream.write(key);
      this.lastForwardAt = performance.now();
      this.resetLine(false);
      return;
    }
    await this.settle();
    const anchor = this.anchor;
    const onScreen = readCommandLine(this.term, anchor);
    const typed = this.typed.isKnown ? this.typed.text.trim() : undefined;
    const isEchoed = onScreen !== "" || !typed;
    const isHidden = this.isHiddenInput || !isEchoed;
    const candidates = [...new Set([onScreen, ...(typed !== undefined ? [typed] : [])])].filter(
      (c) => c !== "" || !typed,
    );
    const withContinuation = (line: string) => (this.continuation ? `${this.continuation}\n${line}` : line);
    const decision = await this.decide(candidates.map(withContinuation));
    const shown = isHidden ? "" : ((onScreen || typed) ?? "");
    const fullLine = withContinuation(shown);
    const config = this.maskingConfig;
    if (fullLine.trim() !== "" || decision.decision !== "allow") {
      await this.recorder.event(
        "command",
        {
          command: isHidden ? null : maskText(fullLine, config).text,
          isHidden,
          decision: decision.decision,
          reasons: decision.reasons.map((r) => ({
            ...r,
            command: isHidden ? "" : maskText(r.command, config).text,
          })),
        },
        {
          statements: 1,
          allowed: decision.decision === "allow" ? 1 : 0,
          held: decision.decision === "review" ? 1 : 0,
          blocked: decision.decision === "deny" ? 1 : 0,
        },
      );
    }
    if (decision.decision === "allow") {
      this.shell.stream.write(key);
      this.lastForwardAt = performance.now();
      this.continuation = isIncompleteLine(fullLine) ? fullLine : "";
      this.resetLine(false);
      return;
    }
    await this.refuse(decision, anchor, isHidden);
  }

  private async decide(lines: string[]): Promise<CommandDecision> {
    let rules: Awaited<ReturnType<typeof loadCommandRules>>;
    try {
      rules = await loadCommandRules();
    } catch {
      return {
        decision: "deny",
        commands: [],
        reasons: [
          {
            command: "",
            ruleId: "store-unavailable",
            ruleName: "Rules unavailable",
            action: "deny",
            message: "the gateway cannot read its command rules right now",
          },
        ],
      };
    }
    const context = { connectionId: this.connection.id, groups: this.principal.groups.map((g) => g.name) };
    let strictest: CommandDecision | undefined;
    for (const line of lines) {
      const d = await evaluateCommandLine(line, rules, context);
      if (!strictest || DECISION_SEVERITY[d.decision] > DECISION_SEVERITY[strictest.decision]) strictest = d;
    }
    return strictest ?? { decision: "allow", reasons: [], commands: [] };
  }

  /** The line is not run: kill it on the remote side, then say why in the terminal. */
  private async refuse(decision: CommandDecision, anchor: PromptAnchor, isHidden: boolean) {
    const inContinuation = this.continuation !== "";
    // Ctrl-E Ctrl-U empties readline's line wherever the cursor is; in a continuation only Ctrl-C drops the
    // earlier lines the shell already holds.
    this.shell.stream.write(inContinuation ? "\u0003" : "\u0005\u0015");
    this.lastForwardAt = performance.now();
    this.resetLine(true);
    await this.settle(400, 30);
    const why = decision.reasons
      .map((r) => (isHidden || !r.command ? r.message : `${r.message} (${r.command})`))
      .join("; ");
    const text =
      decision.decision === "review"
        ? `${YELLOW}[portcullis] ${REVIEW_NOTICE}: ${why}${RESET}`
        : `${RED}[portcullis] blocked: ${why}${RESET}`;
    const masked = maskText(text, this.maskingConfig).text;
    this.emit(`\r\n${masked}\r\n${inContinuation ? "" : anchor.prompt}`);
  }

  resize(requested: Partial<TerminalSize>) {
    if (this.isEnded) return;
    const size = clampSize(requested);
    if (size.cols === this.size.cols && size.rows === this.size.rows) return;
    this.size = size;
    if (this.live) Object.assign(this.live, size);
    this.term.write("", () => this.term.resize(size.cols, size.rows));
    this.shell.stream.setWindow(size.rows, size.cols, 0, 0);
    void this.recorder.event("resize", { cols: size.cols, rows: size.rows }).catch(() => {});
  }

  /** Ends the session: tells the browser why, closes the shell, and closes the recording. */
  async end(reason: string, state: "ended" | "failed" = "ended") {
    if (this.isEnded) return;
    this.isEnded = true;
    unregisterLiveTerminal(this.sessionId);
    for (const timer of this.timers) clearTimeout(timer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const rest = this.masker.flush() + this.decoder.end();
    if (rest) this.recorder.text("output", rest, 0);
    this.recorder.text("output", `\r\n${YELLOW}[portcullis] session ended: ${reason}${RESET}\r\n`, 0);
    void this.recorder
      .event("notice", { level: "info", message: `session ended: ${reason}` })
      .catch(() => {});
    this.shell.stream.removeAllListeners("close");
    this.shell.client.end();
    await this.recorder.drained();
    this.client.control({ type: "ended", reason });
    this.client.close();
    await endSession(this.sessionId, state).catch((error: unknown) => {
      console.error(`[portcullis] terminal ${this.sessionId}: could not close the recording:`, error);
    });
    this.term.dispose();
  }

  /** The gateway's view of the screen, for tests and keyframes. */
  screenText(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++)
      lines.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? "");
    return lines.join("\n");
  }

  /** Resolves when the gateway's screen and the recording have caught up with everything received. */
  async idle() {
    await this.inputChain;
    await this.parsed();
    await this.recorder.drained();
  }
}
