/**
 * One browser terminal: a shell on an SSH connection, with the gateway in the middle.
 *   output: target -> streaming masker -> recording -> browser, and (in order, in the screen worker: screen.ts)
 *           the gateway's screen emulation (@xterm/headless), which keyframes and the command rules read
 *   input:  browser -> (at Enter: read the command line from the screen, decide by command rules, record the
 *           decision) -> target
 * Output is written to the recording before it is sent (recorder.ts). A denied line is not sent: the gateway
 * kills what was typed on the remote side (Ctrl-E Ctrl-U) and prints why in the terminal. A line held for review
 * stays typed on the remote side without its Enter while a review waits in the inbox; other keys are dropped
 * meanwhile (Ctrl+C withdraws the review). Once approved, the Enter is sent only if the line on screen still
 * hashes to the approved input; a denial, expiry or changed line clears it.
 * Authorize, the rules' fail-closed read, the hold (a review, as for a held statement) and the session's record
 * go through the gateway core (server/gateway); an approved line is sent by this session (approved-lines.ts).
 * Fail closed: a recording or rules-store failure ends the session. Not responsible for the WebSocket
 * (socket.ts) or for authenticating the caller (server/realtime does).
 */
import "server-only";
import { StringDecoder } from "node:string_decoder";
import {
  cancelReview,
  finishApprovedReview,
  hashInput,
  type Review,
  readReview,
  reviewSignals,
} from "@/server/approvals";
import { type ConnectionView, openConnectionSecret, pinHostKey } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { type GatewayCore, gatewayCore } from "@/server/gateway";
import { createStreamMasker, type MaskingConfig, maskText, type StreamMasker } from "@/server/masking";
import {
  type CommandDecision,
  type CommandRule,
  DECISION_SEVERITY,
  evaluateCommandLine,
  isIncompleteLine,
} from "@/server/policy";
import type { Principal } from "@/server/principal";
import { endSession, holdSession } from "@/server/recording";
import { registerTerminalChannel, TERMINAL_CHANNEL } from "./approved-lines";
import type { KeyframeState } from "./keyframes";
import { describeDuration, type TerminalLimits, terminalLimits } from "./limits";
import { PemWatch } from "./pem-watch";
import { announceTerminal, withdrawTerminal } from "./presence";
import { type PromptAnchor, TypedLine } from "./prompt";
import { Recorder } from "./recorder";
import { GatewayScreen } from "./screen";
import { type OpenShell, openShell } from "./ssh-shell";

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
const GREEN = "\u001b[1;32m";
const RESET = "\u001b[0m";

/** Said of a review line that cannot be held because it is not shown (a password prompt, no echo). */
export const HIDDEN_REVIEW_NOTICE = "refused: a line that is not shown on screen cannot be held for approval";
/** How often a held line re-reads its review besides the signals (a missed signal, an expiry). */
const HELD_POLL_MS = 3000;

/** A command line typed on the remote side, waiting for its review before the gateway sends the Enter. */
interface HeldLine {
  reviewId: string;
  key: string;
  /** Where the held line is redrawn on screen (after the hold notice). */
  anchor: PromptAnchor;
  stopWatching(): void;
}

type ReviewOutcome = "held" | "approved" | "denied" | "expired" | "withdrawn" | "refused" | "failed";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function clampSize(size: Partial<TerminalSize>): TerminalSize {
  const clamp = (n: unknown, lo: number, hi: number, dflt: number) =>
    typeof n === "number" && Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.floor(n))) : dflt;
  return { cols: clamp(size.cols, 10, 1000, 80), rows: clamp(size.rows, 2, 500, 24) };
}

export class TerminalSession {
  readonly sessionId: string;
  /** The gateway's screen, emulated in the screen worker (screen.ts). */
  private readonly screen: GatewayScreen;
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
  private readonly pem = new PemWatch();
  private flushTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private isPaused = false;
  private pressureTimer: NodeJS.Timeout | undefined;
  private isEnded = false;
  private size: TerminalSize;
  private held: HeldLine | undefined;

  private constructor(
    private readonly core: GatewayCore,
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
    this.screen = new GatewayScreen(size.cols, size.rows, (error) => {
      console.error(`[portcullis] terminal ${sessionId}:`, error.message);
      void this.end("the gateway's screen emulation failed, so the session cannot continue", "failed");
    });
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
    const core = gatewayCore();
    const connection = await core.authorize(
      principal,
      connectionName,
      "ssh",
      `${connectionName} is a PostgreSQL connection; open it in the SQL editor`,
    );
    const { row, secret } = await openConnectionSecret(connection.id);
    // Read once per session: a masking change applies to the next session.
    const maskingConfig = await core.maskingFor(connection);
    const sessionId = await core.record.startSession(principal, connection, "terminal", TERMINAL_CHANNEL);
    // Held by this process: if it dies, the session is shown ended and swept (recording/sessions-liveness.ts).
    await holdSession(sessionId).catch(async (error: unknown) => {
      await endSession(sessionId, "failed").catch(() => {});
      throw error;
    });
    await core.record.appendSessionEvent(sessionId, "resize", { t: 0, cols: size.cols, rows: size.rows });
    let shell: OpenShell;
    try {
      shell = await openShell(row, secret, size);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await core.record
        .appendSessionEvent(sessionId, "notice", { t: 0, level: "error", message })
        .catch(() => {});
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
      onStored: () => session?.easePressure(),
    });
    session = new TerminalSession(
      core,
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
    await announceTerminal(
      () => session.presence(),
      (reason) => void session.end(reason),
    ).catch((error: unknown) => {
      console.error(`[portcullis] terminal ${sessionId}: could not announce the session:`, error);
    });
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
          // Waiting for an approval is not idleness.
          if (!this.held && Date.now() - this.lastInputAt >= this.limits.idleMs)
            void this.end(`idle for ${describeDuration(this.limits.idleMs)}`);
        },
        Math.min(5000, this.limits.idleMs),
      ),
    );
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

  private presence() {
    return {
      sessionId: this.sessionId,
      host: this.connection.host,
      username: this.connection.username,
      cols: this.size.cols,
      rows: this.size.rows,
      lastInputAt: new Date(this.lastInputAt),
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Output

  private onTargetData(chunk: Buffer) {
    if (this.isEnded) return;
    this.lastOutputAt = performance.now();
    const text = this.decoder.write(chunk);
    this.pem.feed(text);
    let masked = this.masker.push(text);
    if (chunk.length <= 64 && this.lastOutputAt - this.lastForwardAt < ECHO_WINDOW_MS && !this.pem.isInPem) {
      masked += this.masker.flush();
    } else this.scheduleFlush();
    if (masked) this.emit(masked);
    this.checkPressure();
  }

  private scheduleFlush() {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.releaseHeld();
    }, HOLD_MS);
  }

  private releaseHeld() {
    if (this.pem.isInPem || this.isEnded) return;
    const rest = this.masker.flush();
    if (rest) this.emit(rest);
  }

  /** Text for the browser: into the gateway's screen, then recorded, then sent. */
  private emit(text: string) {
    this.screen.write(text);
    const masked = this.maskedFields;
    this.maskedFields = 0;
    this.recorder.text("output", text, masked);
  }

  /**
   * Pauses the target while too much output waits to be recorded or sent. Resumed as soon as a write lands
   * (easePressure) or the socket drains (polled), so the next frames are already coming while the last
   * ones are written: the thresholds leave several output events' worth queued.
   */
  private checkPressure() {
    if (this.isPaused || !this.isPressureHigh()) return;
    this.isPaused = true;
    this.shell.stream.pause();
    this.pressureTimer = setInterval(() => this.easePressure(), 5);
  }

  private isPressureHigh() {
    return this.recorder.pendingChars > 2_000_000 || this.client.bufferedAmount() > 4_000_000;
  }

  private easePressure() {
    if (!this.isPaused) return;
    if (!this.isEnded && (this.recorder.pendingChars > 1_000_000 || this.client.bufferedAmount() > 1_000_000))
      return;
    clearInterval(this.pressureTimer);
    this.pressureTimer = undefined;
    this.isPaused = false;
    if (!this.isEnded) this.shell.stream.resume();
  }

  /** The screen for a keyframe once it has parsed everything written so far (none mid-sequence or ending). */
  private captureKeyframe(done: (state: KeyframeState | undefined) => void) {
    this.screen.keyframe().then(
      (state) => done(this.isEnded ? undefined : state),
      () => done(undefined),
    );
  }

  /** Resolves when everything written to the gateway's screen so far is parsed. */
  private parsed(): Promise<void> {
    return this.screen.parsed();
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
    this.enqueue(() => this.handleInput(data));
  }

  /** Runs input handling and held-line checks one at a time, in order; a failure ends the session. */
  private enqueue(step: () => Promise<void>) {
    this.inputChain = this.inputChain.then(step).catch((error: unknown) => {
      console.error(`[portcullis] terminal ${this.sessionId}: input failed:`, error);
      void this.end("the gateway could not check a command, so the session cannot continue", "failed");
    });
  }

  private async handleInput(data: string) {
    // While a line waits for approval nothing is sent; Ctrl+C withdraws the review.
    if (this.held) {
      if (data.includes("\u0003")) await this.withdraw();
      return;
    }
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      // Paste markers count only when the remote asked for bracketed paste (else its shell would run each line).
      if (data.startsWith("\u001b[200~", i) || data.startsWith("\u001b[201~", i)) {
        this.isInPaste = data[i + 4] === "0" && (await this.screen.isBracketedPaste());
      }
      const c = data[i] ?? "";
      if (ACCEPT_KEYS.includes(c) && !this.isInPaste) {
        await this.forward(data.slice(start, i));
        if (this.isEnded) return;
        await this.enter(c);
        if (this.held) return;
        start = i + 1;
      }
    }
    await this.forward(data.slice(start));
  }

  private async forward(text: string) {
    if (text === "" || this.isEnded) return;
    if (!this.anchor) {
      this.anchor = await this.screen.anchor();
      if (this.anchor) this.isHiddenInput = PASSWORD_PROMPT.test(this.anchor.prompt);
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
    if ((await this.screen.isAlternate()) || !this.anchor) {
      // Full-screen programs are not inspected; an Enter with nothing typed runs nothing new.
      this.shell.stream.write(key);
      this.lastForwardAt = performance.now();
      this.resetLine(false);
      return;
    }
    await this.settle();
    const anchor = this.anchor;
    const onScreen = await this.screen.readCommandLine(anchor);
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
      this.sendEnter(key, fullLine);
      return;
    }
    if (decision.decision === "review" && !isHidden) {
      await this.hold(decision, fullLine, key);
      return;
    }
    await this.refuse(decision, anchor, isHidden);
  }

  private sendEnter(key: string, fullLine: string) {
    this.shell.stream.write(key);
    this.lastForwardAt = performance.now();
    this.continuation = isIncompleteLine(fullLine) ? fullLine : "";
    this.resetLine(false);
  }

  private describeReasons(decision: CommandDecision, isHidden: boolean): string {
    const reasons = decision.reasons.map((r) =>
      isHidden || !r.command ? r.message : `${r.message} (${r.command})`,
    );
    return [...new Set(reasons)].join("; ");
  }

  private masked(text: string): string {
    return maskText(text, this.maskingConfig).text;
  }

  // ---------------------------------------------------------------------------------------------------
  // Review: the line stays typed on the remote side; its Enter waits for the inbox.

  private async hold(decision: CommandDecision, fullLine: string, key: string) {
    const anchor = this.anchor;
    if (!anchor) return;
    // The cursor goes to the end of the line, so the redrawn line below and readline's idea of it agree.
    this.shell.stream.write("\u0005");
    this.lastForwardAt = performance.now();
    await this.settle();
    const why = this.masked(this.describeReasons(decision, false));
    let reviewId: string;
    let isRecordingHold = false;
    try {
      // The same hold as a held statement: the review, then the held line recorded in this session.
      reviewId = await this.core.hold(
        {
          principal: this.principal,
          connection: { id: this.connection.id, name: this.connection.name },
          sessionId: this.sessionId,
          channel: TERMINAL_CHANNEL,
          input: fullLine,
          class: "command",
          reasons: decision.reasons,
        },
        (reviewId) => {
          isRecordingHold = true;
          return this.recordReview(reviewId, "held", {
            command: this.masked(fullLine),
            reasons: decision.reasons.map((r) => ({ ...r, command: this.masked(r.command) })),
          });
        },
      );
    } catch (error) {
      // The review could not be created (the core's refusal); a recording failure ends the session instead.
      if (isRecordingHold || !(error instanceof GatewayError)) throw error;
      console.error(`[portcullis] terminal ${this.sessionId}: could not create a review:`, error.message);
      await this.dropLine(
        `${RED}[portcullis] blocked: the review could not be created (${why})${RESET}`,
        anchor,
      );
      return;
    }
    const line = await this.screen.readCommandLine(anchor);
    this.emit(
      `\r\n${YELLOW}[portcullis] held for approval: ${why} — review ${reviewId}, waiting… press Ctrl+C to withdraw${RESET}\r\n${anchor.prompt}`,
    );
    const redrawn = (await this.screen.anchor()) ?? anchor;
    this.emit(line);
    await this.parsed();
    const check = () => this.enqueue(() => this.checkHeld());
    reviewSignals.addEventListener("changed", check);
    const poll = setInterval(check, HELD_POLL_MS);
    this.held = {
      reviewId,
      key,
      anchor: redrawn,
      stopWatching: () => {
        reviewSignals.removeEventListener("changed", check);
        clearInterval(poll);
      },
    };
  }

  private release(): HeldLine | undefined {
    const held = this.held;
    held?.stopWatching();
    this.held = undefined;
    this.lastInputAt = Date.now();
    return held;
  }

  private recordReview(reviewId: string, outcome: ReviewOutcome, data: Record<string, unknown> = {}) {
    return this.recorder.event("review", { reviewId, outcome, ...data });
  }

  /** Re-reads the held line's review and acts once it is decided. */
  private async checkHeld() {
    const held = this.held;
    if (!held || this.isEnded) return;
    const row = await readReview(held.reviewId);
    if (row?.state === "pending") return;
    if (row?.state !== "approved") {
      this.release();
      await this.closeHeld(
        held,
        row,
        row?.state === "expired"
          ? "expired"
          : row?.state === "cancelled"
            ? "withdrawn"
            : row?.state === "denied"
              ? "denied"
              : "failed",
      );
      return;
    }
    const current = this.continuationOf(await this.screen.readCommandLine(held.anchor));
    const approvers = row.decisions.filter((d) => d.decision === "approve").map((d) => d.byLabel);
    if (hashInput(current) !== row.inputHash) {
      const error = "the command line on screen changed after it was held; nothing was run";
      if (!(await finishApprovedReview(row.id, "failed", error))) return;
      this.release();
      await this.recordReview(row.id, "refused", { by: approvers, message: error });
      await this.dropLine(
        `${RED}[portcullis] approved, but ${error} (review ${row.id})${RESET}`,
        held.anchor,
      );
      return;
    }
    if (!(await finishApprovedReview(row.id, "executed"))) return;
    this.release();
    await this.recordReview(row.id, "approved", { by: approvers, comments: this.commentsOf(row) });
    const line = await this.screen.readCommandLine(held.anchor);
    this.emit(
      `\r\n${GREEN}[portcullis] approved by ${approvers.join(", ")}${this.commentsOf(row)}: running${RESET}\r\n${held.anchor.prompt}${line}`,
    );
    await this.parsed();
    this.anchor = held.anchor;
    this.sendEnter(held.key, current);
  }

  private continuationOf(line: string): string {
    return this.continuation ? `${this.continuation}\n${line}` : line;
  }

  private commentsOf(row: Review): string {
    const comments = row.decisions
      .filter((d) => d.comment.trim() !== "")
      .map((d) => `“${this.masked(d.comment.trim())}”`);
    return comments.length > 0 ? ` (${comments.join("; ")})` : "";
  }

  /** The review ended without running: clear the line and say why, with who decided and their comment. */
  private async closeHeld(held: HeldLine, row: Review | undefined, outcome: ReviewOutcome) {
    const deciders = row?.decisions.filter((d) => d.decision === "deny").map((d) => d.byLabel) ?? [];
    await this.recordReview(held.reviewId, outcome, {
      by: deciders,
      ...(row && { comments: this.commentsOf(row) }),
    });
    const what =
      outcome === "denied"
        ? `denied by ${deciders.join(", ")}${row ? this.commentsOf(row) : ""}`
        : outcome === "expired"
          ? "the review expired before anyone approved it"
          : outcome === "withdrawn"
            ? "withdrawn"
            : `the review ended (${row?.state ?? "gone"})`;
    await this.dropLine(`${RED}[portcullis] not run: ${what} (review ${held.reviewId})${RESET}`, held.anchor);
  }

  /** Ctrl+C while held: the review is cancelled and the line cleared. */
  private async withdraw() {
    const held = this.held;
    if (!held) return;
    try {
      await cancelReview(this.principal, held.reviewId);
    } catch (error) {
      // Decided meanwhile: act on the decision instead.
      if (error instanceof GatewayError) return this.checkHeld();
      throw error;
    }
    this.release();
    await this.closeHeld(held, undefined, "withdrawn");
  }

  private async decide(lines: string[]): Promise<CommandDecision> {
    let rules: CommandRule[];
    try {
      rules = await this.core.commandRules();
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
    const why = this.masked(this.describeReasons(decision, isHidden));
    const text =
      decision.decision === "review"
        ? `${YELLOW}[portcullis] ${HIDDEN_REVIEW_NOTICE}: ${why}${RESET}`
        : `${RED}[portcullis] blocked: ${why}${RESET}`;
    await this.dropLine(text, anchor);
  }

  /** Kills the typed line on the remote side, then prints a notice (already masked) and the prompt again. */
  private async dropLine(text: string, anchor: PromptAnchor) {
    const inContinuation = this.continuation !== "";
    // Ctrl-E Ctrl-U empties readline's line wherever the cursor is; in a continuation only Ctrl-C drops the
    // earlier lines the shell already holds.
    this.shell.stream.write(inContinuation ? "\u0003" : "\u0005\u0015");
    this.lastForwardAt = performance.now();
    this.resetLine(true);
    await this.settle(400, 30);
    this.emit(`\r\n${text}\r\n${inContinuation ? "" : anchor.prompt}`);
  }

  resize(requested: Partial<TerminalSize>) {
    if (this.isEnded) return;
    const size = clampSize(requested);
    if (size.cols === this.size.cols && size.rows === this.size.rows) return;
    this.size = size;
    this.screen.resize(size.cols, size.rows);
    this.shell.stream.setWindow(size.rows, size.cols, 0, 0);
    void this.recorder.event("resize", { cols: size.cols, rows: size.rows }).catch(() => {});
  }

  /** Ends the session: tells the browser why, closes the shell, and closes the recording. */
  async end(reason: string, state: "ended" | "failed" = "ended") {
    if (this.isEnded) return;
    this.isEnded = true;
    const withdrawn = withdrawTerminal(this.sessionId).catch(() => {});
    const held = this.release();
    if (held) {
      // An approval that arrived but was not acted on cannot run any more; a pending review stays, and its
      // approval will fail because this session is gone.
      void finishApprovedReview(
        held.reviewId,
        "failed",
        "the terminal session ended before the line was sent",
      ).catch(() => {});
    }
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
    await withdrawn;
    this.client.control({ type: "ended", reason });
    this.client.close();
    await endSession(this.sessionId, state).catch((error: unknown) => {
      console.error(`[portcullis] terminal ${this.sessionId}: could not close the recording:`, error);
    });
    this.screen.close();
  }

  /** The gateway's view of the screen, for tests. */
  screenText(): Promise<string> {
    return this.screen.text();
  }

  /** Resolves when the gateway's screen and the recording have caught up with everything received. */
  async idle() {
    await this.inputChain;
    await this.parsed();
    await this.recorder.drained();
  }
}

// A process that can hold a terminal line can hand its approval over (bootstrap registers it at start-up too).
registerTerminalChannel();
