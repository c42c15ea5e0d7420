/**
 * One authenticated native client: its lifecycle (messages queued and handled one at a time, in order; the idle
 * clock; the principal checked again between statements; cancel; terminate; close) and the dispatch of each
 * message. The simple protocol is here: each Query through the same pipeline as the editor (runSql, channel
 * "native") on the client's own pinned target session, several statements in one implicit transaction, the
 * outcome written back as the PostgreSQL protocol (rows masked, as text; refusals as ErrorResponses,
 * native-replies.ts), then the settings the target changed and ReadyForQuery. A held statement sent again after
 * its approval runs (the pipeline finds the approval). The extended protocol's statements and portals are
 * extended-protocol.ts's, COPY's sub-protocol copy-stream.ts's; both reach the client through NativeHost
 * (native-host.ts). Not responsible for start-up, TLS or authentication (pg-listener.ts), nor for deciding
 * anything (the pipeline does).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { Principal } from "@/server/auth";
import { getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { LIMITS, type ResultColumn, type ResultSink, runSql, type SqlOutcome } from "@/server/pipeline";
import { endSession } from "@/server/recording";
import type { PinnedSession } from "@/server/targets/postgres";
import { cancelRun } from "@/server/targets/runs";
import { copyCommand } from "./copy";
import { CopyStream } from "./copy-stream";
import { EXTENDED_PROTOCOL, ExtendedProtocol } from "./extended-protocol";
import { runsAsImplicitTransaction } from "./implicit-transaction";
import type { NativeClientOptions, NativeHost } from "./native-host";
import { gatewayErrorNotice, isEmptyQuery, refusalOf, writeResult } from "./native-replies";
import { WireResultStream } from "./result-stream";
import { type Executed, statusAfter } from "./transaction-status";
import {
  emptyQueryResponse,
  errorResponse,
  parameterStatus,
  readyForQuery,
  type TransactionStatus,
  type WireNotice,
} from "./wire";

export type { NativeClientOptions } from "./native-host";
export { isEmptyQuery } from "./native-replies";

/** Bytes of queued client messages past which the listener stops reading the client, and where it resumes. */
const QUEUE_HIGH_WATER = 1024 * 1024;
const QUEUE_LOW_WATER = 256 * 1024;

export const FUNCTION_CALL_REFUSAL: WireNotice = {
  severity: "ERROR",
  code: "0A000",
  message: "Portcullis does not support function calls (FunctionCall) through the listener",
};

export class NativeClient {
  status: TransactionStatus = "I";
  private queue: Promise<void> = Promise.resolve();
  private runId: string | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly parameters: Map<string, string>;
  private readonly extended: ExtendedProtocol;
  private readonly copy: CopyStream;
  private readonly host: NativeHost;
  /** the input running now through the pipeline (close waits for it to record how it ended) */
  private running: Promise<unknown> | undefined;

  constructor(private readonly o: NativeClientOptions) {
    this.parameters = new Map(o.target.parameters);
    // What the protocol's parts may ask of this client (NativeHost), its own state staying private.
    const client = this;
    const host: NativeHost = {
      o,
      get status() {
        return client.status;
      },
      set status(status) {
        client.status = status;
      },
      get closed() {
        return client.closed;
      },
      run: (text, parameters, out, stream) => this.run(text, parameters, out, stream),
      samePrincipal: () => this.samePrincipal(),
      terminate: (code, message) => this.terminate(code, message),
      changedParameters: () => this.changedParameters(),
    };
    this.host = host;
    this.extended = new ExtendedProtocol(host);
    this.copy = new CopyStream(host);
  }

  /**
   * Queues one frontend message (type byte, length, body); messages are handled one at a time, in order. false
   * when the messages queued pass QUEUE_HIGH_WATER bytes: the listener stops reading the client until
   * `whenDrained` (a COPY FROM STDIN faster than the target would otherwise pile up in memory).
   */
  enqueue(message: Buffer): boolean {
    this.waiting++;
    this.queuedBytes += message.length;
    this.stopIdleTimer();
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.handle(message)))
      .catch((err) => this.fatal(err))
      .finally(() => {
        this.waiting--;
        this.queuedBytes -= message.length;
        if (this.queuedBytes <= QUEUE_LOW_WATER) this.drain();
        if (this.waiting === 0) this.startIdleTimer();
      });
    return this.queuedBytes < QUEUE_HIGH_WATER;
  }

  /** bytes of the messages queued and not handled yet */
  private queuedBytes = 0;
  private drained: (() => void)[] = [];

  /** Resolves once the messages queued are down to QUEUE_LOW_WATER bytes (or the client closed). */
  whenDrained(): Promise<void> {
    if (this.queuedBytes <= QUEUE_LOW_WATER || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private drain() {
    const waiting = this.drained;
    this.drained = [];
    for (const resolve of waiting) resolve();
  }

  /** messages queued and not handled yet (the idle clock runs only when there are none) */
  private waiting = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /** Starts the idle clock (after the start-up, and whenever the client's messages are all handled). */
  startIdleTimer() {
    const ms = this.o.idleTimeoutMs;
    if (ms === undefined || this.closed) return;
    this.stopIdleTimer();
    this.idleTimer = setTimeout(() => {
      // PostgreSQL's own codes: idle_session_timeout, idle_in_transaction_session_timeout
      const inTransaction = this.status !== "I";
      this.terminate(
        inTransaction ? "25P03" : "57P05",
        `terminating connection due to ${inTransaction ? "idle-in-transaction" : "idle-session"} timeout ` +
          `(${Math.round(ms / 1000)} s without a message; PG_LISTEN_IDLE_TIMEOUT)`,
      );
    }, ms);
    this.idleTimer.unref();
  }

  private stopIdleTimer() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * Ends the client from the gateway's side (killed from the console, credential revoked, access removed, idle):
   * a FATAL ErrorResponse saying why, the socket closed, the target session closed and the session ended.
   */
  terminate(code: string, message: string) {
    if (this.closed) return;
    this.o.send(errorResponse({ severity: "FATAL", code, message }));
    this.o.end();
    void this.close();
  }

  /**
   * Is the principal still who they were and still allowed this connection? Asked between statements by the
   * listener (so a disabled account or a removed group ends an idle client too); terminates the client if not.
   */
  async recheck(): Promise<void> {
    if (this.closed) return;
    const principal = await this.o.identify();
    if (!principal || principal.id !== this.o.principal.id) {
      this.terminate(
        "28000",
        "the credential of this connection was revoked or has expired, or its account was disabled",
      );
      return;
    }
    try {
      await getConnectionForUse(principal, this.o.connection.name);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      if (err.code === "forbidden" || err.code === "not_found") {
        this.terminate(
          "28000",
          `${principal.email} may no longer use connection "${this.o.connection.name}"`,
        );
      }
    }
  }

  /** Cancels the statement running now, if any (a CancelRequest with this client's key). */
  cancel() {
    if (this.runId) cancelRun(this.runId, this.o.principal.id);
    this.copy.cancel();
  }

  /** The client went away: its target session is closed (rolling back what it left open) and its session ended. */
  close(state: "ended" | "failed" = "ended"): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.drain();
      this.stopIdleTimer();
      this.cancel();
      this.extended.close();
      await this.o.target.close();
      // A streamed result stopped by the close records its end (client gone) before the session ends.
      await this.running?.catch(() => {});
      await endSession(this.o.sessionId, state).catch((err) =>
        console.error(
          "[portcullis] could not end a native session:",
          err instanceof Error ? err.message : err,
        ),
      );
    })();
    return this.closing;
  }

  private async handle(message: Buffer) {
    const type = String.fromCharCode(message[0] ?? 0);
    if (this.copy.isReceiving) {
      await this.copy.inMessage(type, message);
      return;
    }
    if (type === "Q") {
      await this.query(message.subarray(5, message.length - 1).toString("utf8"));
      return;
    }
    if (type === "X") {
      this.o.end();
      return;
    }
    if (type === "S") {
      const syncing = this.extended.sync();
      if (syncing) await syncing;
      return;
    }
    if (type === "H") {
      this.extended.flush();
      return;
    }
    if (EXTENDED_PROTOCOL.has(type)) {
      await this.extended.message(type, message);
      return;
    }
    if (type === "F") {
      this.o.send(Buffer.concat([errorResponse(FUNCTION_CALL_REFUSAL), readyForQuery(this.status)]));
      return;
    }
    if (type === "d" || type === "c" || type === "f") return; // copy data outside COPY: ignored, as PostgreSQL does
    this.o.send(
      errorResponse({ severity: "FATAL", code: "08P01", message: `unexpected message type "${type}"` }),
    );
    this.o.end();
  }

  private async query(text: string) {
    // A portal's read suspended on the target session gives way: its rest is held (extended-protocol.ts).
    if (this.extended.isReading) await this.extended.settle();
    if (isEmptyQuery(text)) {
      this.o.send(Buffer.concat([emptyQueryResponse(), readyForQuery(this.status)]));
      return;
    }
    const copy = await copyCommand(text);
    if (copy && "refused" in copy) {
      const refusal = errorResponse({ severity: "ERROR", code: "0A000", message: copy.refused });
      this.o.send(Buffer.concat([refusal, readyForQuery(this.status)]));
      return;
    }
    if (copy?.direction === "out") {
      await this.copy.out(copy.select, copy.format);
      return;
    }
    if (copy?.direction === "in") {
      // Decided before the data flows; then the client's CopyData go to the target (copy-stream.ts).
      await this.copy.startIn(text, copy.columns, copy.binary);
      return;
    }
    const out: Buffer[] = [];
    // Several statements in one Query outside a transaction: one implicit transaction, as PostgreSQL runs them.
    const implicit = this.status === "I" && (await runsAsImplicitTransaction(text));
    if (implicit) await this.o.target.beginImplicit();
    let outcome: SqlOutcome | undefined;
    let committed: Awaited<ReturnType<PinnedSession["endImplicit"]>> = { ok: true };
    try {
      // A single statement's long result streams (result-stream.ts); its end follows here.
      outcome = await this.run(text, undefined, out, new WireResultStream(this.host));
    } finally {
      if (implicit) {
        committed = await this.o.target.endImplicit(outcome?.status === "done");
        this.status = "I";
      }
    }
    if (outcome && (outcome.status === "done" || outcome.status === "failed")) {
      for (const result of outcome.results) writeResult(result, out);
    }
    if (outcome) out.push(...refusalOf(outcome, this.o.publicUrl));
    if (!committed.ok && outcome?.status === "done") {
      // Only the SQLSTATE: a deferred constraint's message can quote the row's values.
      out.push(
        errorResponse({
          severity: "ERROR",
          code: committed.sqlState ?? "XX000",
          message: `the statements' implicit transaction could not commit (SQLSTATE ${committed.sqlState ?? "unknown"}): nothing of it was kept`,
        }),
      );
    }
    out.push(...this.changedParameters(), readyForQuery(this.status));
    if (!this.closed) this.o.send(Buffer.concat(out));
  }

  /**
   * One input through the pipeline, as this client's principal as it is now. Returns the outcome, or undefined
   * when the gateway refused it (its ErrorResponse is in `out`). Follows the transaction status.
   */
  private async run(
    text: string,
    parameters: (string | null)[] | undefined,
    out: Buffer[],
    stream?: ResultSink<ResultColumn>,
  ): Promise<SqlOutcome | undefined> {
    const principal = await this.o.identify();
    if (!principal || principal.id !== this.o.principal.id) {
      this.o.send(
        errorResponse({
          severity: "FATAL",
          code: "28000",
          message: "the credential of this connection was revoked or has expired",
        }),
      );
      this.o.end();
      throw new GatewayError("unauthenticated", "the credential was revoked");
    }
    this.runId = randomUUID();
    let outcome: SqlOutcome;
    try {
      const running = runSql({
        principal,
        connectionName: this.o.connection.name,
        input: text,
        channel: "native",
        sessionId: this.o.sessionId,
        targetSession: this.o.target,
        runId: this.runId,
        rowLimit: LIMITS.maxRowLimit,
        ...(parameters && { parameters }),
        ...(stream && { stream }),
      });
      this.running = running;
      outcome = await running;
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      out.push(errorResponse(gatewayErrorNotice(err)));
      if (err.code === "target_unavailable" || this.o.target.closed) {
        this.o.send(Buffer.concat(out));
        throw err;
      }
      return undefined;
    } finally {
      this.runId = undefined;
      this.running = undefined;
    }
    const executed: Executed[] =
      outcome.status === "done" || outcome.status === "failed"
        ? outcome.results.map((r) => ({ statement: r.statement, command: r.command }))
        : [];
    this.status = statusAfter(this.status, executed, outcome.status === "failed");
    return outcome;
  }

  /**
   * The principal as it is now, or undefined (the client terminated) when its credential was revoked or has
   * expired, or it is someone else's.
   */
  private async samePrincipal(): Promise<Principal | undefined> {
    const principal = await this.o.identify();
    if (!principal || principal.id !== this.o.principal.id) {
      this.terminate("28000", "the credential of this connection was revoked or has expired");
      return undefined;
    }
    return principal;
  }

  /** Settings the target reported changed (SET TimeZone...), passed on as PostgreSQL would. */
  private changedParameters(): Buffer[] {
    const changed: Buffer[] = [];
    for (const [name, value] of this.o.target.parameters) {
      if (this.parameters.get(name) === value || !FORWARDED_PARAMETERS.has(name)) continue;
      this.parameters.set(name, value);
      changed.push(parameterStatus(name, value));
    }
    return changed;
  }

  private fatal(err: unknown) {
    if (!(err instanceof GatewayError)) {
      const id = randomUUID().slice(0, 8);
      console.error(`[portcullis] native client error ${id}:`, err instanceof Error ? err.message : err);
      this.o.send(errorResponse({ severity: "FATAL", code: "XX000", message: `internal error ${id}` }));
    }
    this.o.end();
    void this.close("failed");
  }
}

/** The target's settings a client is told about (its own names and the gateway's target user stay out). */
export const FORWARDED_PARAMETERS = new Set([
  "server_version",
  "server_encoding",
  "DateStyle",
  "IntervalStyle",
  "TimeZone",
  "integer_datetimes",
  "standard_conforming_strings",
]);
