/**
 * One authenticated native client: its messages in order, each Query through the same pipeline as the editor
 * (runSql, channel "native") on the client's own pinned target session, the outcome written back as the
 * PostgreSQL protocol (rows masked, as text). Refusals are ErrorResponses: 42501 for a denied statement and
 * for one held for review (naming the review and its console URL), the target's SQLSTATE for its errors (their
 * messages masked by the pipeline). The extended protocol's parameters stay parameters (binary ones decoded to
 * text, binary-parameters.ts), results go as text; a held statement sent again after its approval runs (the
 * pipeline finds the approval); COPY TO STDOUT and FROM STDIN speak the copy sub-protocol (copy.ts). Not
 * responsible for start-up, TLS or authentication (pg-listener.ts), nor for deciding anything (the pipeline
 * does).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { Principal } from "@/server/auth";
import { type ConnectionView, getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import {
  type DescribeOutcome,
  decideCopyFromStdin,
  describeSql,
  LIMITS,
  runSql,
  type SqlOutcome,
  type StatementOutcome,
} from "@/server/pipeline";
import { endSession } from "@/server/recording";
import type { PinnedSession } from "@/server/targets/postgres";
import { cancelRun } from "@/server/targets/runs";
import { decodeBinaryParameter } from "./binary-parameters";
import { type CopyFormat, copyCommand, copyRow } from "./copy";
import { runsAsImplicitTransaction } from "./implicit-transaction";
import { type Executed, statusAfter } from "./transaction-status";
import {
  bindComplete,
  closeComplete,
  commandComplete,
  commandTag,
  copyData,
  copyDone,
  copyInResponse,
  copyOutResponse,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  FrontendReader,
  noData,
  noticeResponse,
  parameterDescription,
  parameterStatus,
  parseComplete,
  portalSuspended,
  readyForQuery,
  rowDescription,
  TEXT_OID,
  type TransactionStatus,
  toWireText,
  type WireColumn,
  type WireNotice,
} from "./wire";

export interface NativeClientOptions {
  principal: Principal;
  /**
   * The principal as it is now (from the client's token, through server/auth's cache, cleared on every change):
   * asked before each query, so a removed group, a revoked token or a disabled account applies to the next
   * statement of a connection already open. null ends the connection.
   */
  identify: () => Promise<Principal | null>;
  connection: ConnectionView;
  sessionId: string;
  target: PinnedSession;
  publicUrl: string;
  send: (bytes: Buffer) => void;
  /** closes the client's socket */
  end: () => void;
  /** a client that sends nothing for this long is closed; undefined: never */
  idleTimeoutMs?: number;
}

/** GatewayError codes as the SQLSTATE a PostgreSQL client understands. */
const SQLSTATE_OF: Record<GatewayError["code"], string> = {
  bad_request: "42601",
  unauthenticated: "28000",
  forbidden: "42501",
  not_found: "42501",
  conflict: "55000",
  payload_too_large: "54000",
  unsupported_media_type: "0A000",
  rate_limited: "53400",
  target_unavailable: "08006",
  unavailable: "58000",
  blocked: "42501",
  cross_site: "42501",
};

const EXTENDED_PROTOCOL = new Set(["P", "B", "D", "E", "C"]);

/**
 * Types whose values are text already: a column of one keeps its type when a statement is described before it
 * runs, since a masked value in it is text too. Any other column is announced as text then: which of its values
 * will be masked (by a rule, by lineage, by a detector) is known only once it runs.
 */
const TEXT_TYPES = new Set([TEXT_OID, 1043 /* varchar */, 1042 /* bpchar */, 19 /* name */, 18 /* char */]);

/** A bound portal: its statement, its parameters, and once executed the rows not yet sent. */
interface Portal {
  text: string;
  /** the columns announced when its statement was described (its rows then keep to them) */
  columns?: WireColumn[] | null;
  parameters: (string | null)[];
  /** where the RowDescription of a Describe goes in the pending replies, filled when the portal runs */
  describedAt?: number;
  result?: StatementOutcome;
  sent: number;
}

/**
 * Input with nothing to run (whitespace, semicolons, comments): PostgreSQL answers EmptyQueryResponse, and so do
 * we, without the pipeline (which refuses it: "no statement"). Nothing is sent anywhere. A nested block comment
 * is not matched whole, so it goes to the pipeline like any other input.
 */
export function isEmptyQuery(text: string): boolean {
  return /^(?:\s|;|--[^\n]*(?:\n|$)|\/\*(?:[^*/]|\*(?!\/)|\/(?!\*))*\*\/)*$/.test(text);
}

export const FUNCTION_CALL_REFUSAL: WireNotice = {
  severity: "ERROR",
  code: "0A000",
  message: "Portcullis does not support function calls (FunctionCall) through the listener",
};

export class NativeClient {
  status: TransactionStatus = "I";
  private queue: Promise<void> = Promise.resolve();
  /** after an extended-protocol message was refused, everything up to Sync is skipped (as PostgreSQL does) */
  private skippingToSync = false;
  private runId: string | undefined;
  private closed = false;
  /** prepared statements by name ("" the unnamed one) */
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, Portal>();
  /** the parameter types each prepared statement's Parse declared (0: unspecified) */
  private readonly declaredTypes = new Map<string, number[]>();
  /** the columns announced by a Describe of each prepared statement (null: NoData) */
  private readonly described = new Map<string, WireColumn[] | null>();
  /** extended-protocol replies not sent yet (at Sync or Flush); an empty Buffer marks a Describe to fill */
  private pending: Buffer[] = [];
  private closing: Promise<void> | undefined;
  private readonly parameters: Map<string, string>;
  /** a COPY ... FROM STDIN whose data the client is sending: counted and discarded, decided at CopyDone */
  private copyIn: { text: string; bytes: number } | undefined;

  constructor(private readonly o: NativeClientOptions) {
    this.parameters = new Map(o.target.parameters);
  }

  /** Queues one frontend message (type byte, length, body); messages are handled one at a time, in order. */
  enqueue(message: Buffer) {
    this.waiting++;
    this.stopIdleTimer();
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.handle(message)))
      .catch((err) => this.fatal(err))
      .finally(() => {
        this.waiting--;
        if (this.waiting === 0) this.startIdleTimer();
      });
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
  }

  /** The client went away: its target session is closed (rolling back what it left open) and its session ended. */
  close(state: "ended" | "failed" = "ended"): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.stopIdleTimer();
      this.cancel();
      await this.o.target.close();
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
    if (this.copyIn) {
      await this.copyInMessage(type, message);
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
      this.sync();
      return;
    }
    if (type === "H") {
      this.flush();
      return;
    }
    if (EXTENDED_PROTOCOL.has(type)) {
      if (this.skippingToSync) return;
      try {
        await this.extended(type, new FrontendReader(message));
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        this.refuseUntilSync({
          severity: "ERROR",
          code: "08P01",
          message: `malformed message: ${err.message}`,
        });
      }
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
      await this.copyOut(copy.select, copy.format);
      return;
    }
    if (copy?.direction === "in") {
      // The client sends its rows now (CopyData ... CopyDone); they are counted and dropped, never forwarded.
      this.copyIn = { text, bytes: 0 };
      this.o.send(copyInResponse(copy.columns));
      return;
    }
    const out: Buffer[] = [];
    // Several statements in one Query outside a transaction: one implicit transaction, as PostgreSQL runs them.
    const implicit = this.status === "I" && (await runsAsImplicitTransaction(text));
    if (implicit) await this.o.target.beginImplicit();
    let outcome: SqlOutcome | undefined;
    let committed: Awaited<ReturnType<PinnedSession["endImplicit"]>> = { ok: true };
    try {
      outcome = await this.run(text, undefined, out);
    } finally {
      if (implicit) {
        committed = await this.o.target.endImplicit(outcome?.status === "done");
        this.status = "I";
      }
    }
    if (outcome && (outcome.status === "done" || outcome.status === "failed")) {
      for (const result of outcome.results) this.writeResult(result, out);
    }
    if (outcome) out.push(...this.refusalOf(outcome));
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
   * COPY ... TO STDOUT as the SELECT of the same columns: decided, masked and recorded as that SELECT, its rows
   * then written as CopyOutResponse, CopyData (text or CSV), CopyDone. A result cut at MAX_ROW_LIMIT is not
   * sent at all: an export must not end silently short.
   */
  private async copyOut(select: string, format: CopyFormat) {
    const out: Buffer[] = [];
    const outcome = await this.run(select, undefined, out);
    const result = outcome?.status === "done" ? outcome.results[0] : undefined;
    if (outcome && result?.truncated) {
      out.push(
        errorResponse({
          severity: "ERROR",
          code: "54000",
          message: `COPY TO STDOUT was not sent: it has more than ${result.rowLimit} rows (MAX_ROW_LIMIT); copy it in parts`,
        }),
      );
    } else if (result) {
      out.push(copyOutResponse(result.columns.length));
      if (format.header)
        out.push(
          copyData(
            copyRow(
              result.columns.map((c) => c.name),
              format,
            ),
          ),
        );
      for (const row of result.rows) out.push(copyData(copyRow(row.map(toWireText), format)));
      out.push(copyDone(), commandComplete(commandTag("COPY", result.rowCount)));
    } else if (outcome) {
      out.push(...this.refusalOf(outcome));
    }
    out.push(...this.changedParameters(), readyForQuery(this.status));
    if (!this.closed) this.o.send(Buffer.concat(out));
  }

  /**
   * During COPY ... FROM STDIN: CopyData is counted and dropped, CopyDone has the pipeline decide (held or
   * refused: nothing runs), CopyFail ends it; Flush and Sync are ignored as PostgreSQL does; anything else is a
   * protocol violation.
   */
  private async copyInMessage(type: string, message: Buffer) {
    const copy = this.copyIn;
    if (!copy) return;
    if (type === "d") {
      copy.bytes += message.length - 5;
      return;
    }
    if (type === "H" || type === "S") return;
    this.copyIn = undefined;
    if (type === "f") {
      const why = message.subarray(5, message.length - 1).toString("utf8");
      const failed = errorResponse({
        severity: "ERROR",
        code: "57014",
        message: `COPY from stdin failed: ${why}`,
      });
      this.o.send(Buffer.concat([failed, readyForQuery(this.status)]));
      return;
    }
    if (type !== "c") {
      this.o.send(
        errorResponse({
          severity: "FATAL",
          code: "08P01",
          message: `unexpected message type "${type}" during COPY from stdin`,
        }),
      );
      this.o.end();
      return;
    }
    const out: Buffer[] = [];
    const principal = await this.o.identify();
    if (!principal || principal.id !== this.o.principal.id) {
      this.terminate("28000", "the credential of this connection was revoked or has expired");
      return;
    }
    try {
      const outcome = await decideCopyFromStdin(
        {
          principal,
          connectionName: this.o.connection.name,
          input: copy.text,
          channel: "native",
          sessionId: this.o.sessionId,
        },
        copy.bytes,
      );
      out.push(
        ...this.refusalOf(
          outcome,
          "the data was not kept and the gateway does not load COPY FROM STDIN yet: an approval records the decision, it loads nothing; INSERT the rows",
        ),
      );
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      out.push(errorResponse({ severity: "ERROR", code: SQLSTATE_OF[err.code], message: err.message }));
    }
    out.push(readyForQuery(this.status));
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
      outcome = await runSql({
        principal,
        connectionName: this.o.connection.name,
        input: text,
        channel: "native",
        sessionId: this.o.sessionId,
        targetSession: this.o.target,
        runId: this.runId,
        rowLimit: LIMITS.maxRowLimit,
        ...(parameters && { parameters }),
      });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      out.push(errorResponse({ severity: "ERROR", code: SQLSTATE_OF[err.code], message: err.message }));
      if (err.code === "target_unavailable" || this.o.target.closed) {
        this.o.send(Buffer.concat(out));
        throw err;
      }
      return undefined;
    } finally {
      this.runId = undefined;
    }
    const executed: Executed[] =
      outcome.status === "done" || outcome.status === "failed"
        ? outcome.results.map((r) => ({ statement: r.statement, command: r.command }))
        : [];
    this.status = statusAfter(this.status, executed, outcome.status === "failed");
    return outcome;
  }

  /**
   * The ErrorResponse of an outcome that did not (fully) run: failed, blocked or held (`afterApproval` says what
   * an approval of it does).
   */
  private refusalOf(
    outcome: SqlOutcome,
    afterApproval = "once it is approved, send exactly this statement (with the same values) again on this connection: it runs then, once, here, in your transaction if one is open; the approval expires like the review",
  ): Buffer[] {
    if (outcome.status === "failed") {
      return [
        errorResponse({
          severity: "ERROR",
          code: outcome.error.sqlState ?? (outcome.error.code === "cancelled" ? "57014" : "XX000"),
          message: outcome.error.message, // masked by the pipeline
          ...(outcome.error.position !== undefined && { position: outcome.error.position }),
        }),
      ];
    }
    if (outcome.status === "blocked") return [errorResponse(blockedNotice(outcome))];
    if (outcome.status === "pending_review") {
      const url = `${this.o.publicUrl}/inbox/${outcome.reviewId}`;
      const why = outcome.reasons.map((r) => r.message).filter(Boolean);
      return [
        errorResponse({
          severity: "ERROR",
          code: "42501",
          message: `held for review ${outcome.reviewId}: nothing ran; an approver decides at ${url}`,
          ...(why.length > 0 && { detail: why.join("; ") }),
          // What approval does (server/pipeline.ts, runIfApproved): nothing runs until the client sends it again.
          hint: afterApproval,
        }),
      ];
    }
    return [];
  }

  /**
   * Parse, Bind, Describe, Execute, Close. Statements are decided when executed, with their parameters, by the
   * pipeline; a Describe of a portal is answered with the RowDescription of its result (masked columns are text),
   * so it is filled in at Execute, unless its statement was described (describeStatement). Binary results are
   * refused (0A000).
   */
  private async extended(type: string, r: FrontendReader) {
    if (type === "P") {
      const name = r.cstring();
      const text = r.cstring();
      const types = Array.from({ length: r.int16() }, () => r.int32() >>> 0);
      if (name !== "" && this.statements.has(name)) {
        this.refuseUntilSync({
          severity: "ERROR",
          code: "42P05",
          message: `prepared statement "${name}" already exists`,
        });
        return;
      }
      this.statements.set(name, text);
      this.declaredTypes.set(name, types);
      this.described.delete(name);
      this.pending.push(parseComplete());
      return;
    }
    if (type === "B") {
      const portal = r.cstring();
      const statement = r.cstring();
      const formats = Array.from({ length: r.int16() }, () => r.int16());
      const raw = Array.from({ length: r.int16() }, () => r.bytes(r.int32()));
      const resultFormats = Array.from({ length: r.int16() }, () => r.int16());
      const text = this.statements.get(statement);
      if (text === undefined) {
        this.refuseUntilSync({
          severity: "ERROR",
          code: "26000",
          message: `prepared statement "${statement}" does not exist`,
        });
        return;
      }
      if (resultFormats.some((f) => f !== 0)) {
        this.refuseUntilSync({
          severity: "ERROR",
          code: "0A000",
          message:
            "Portcullis sends results as text only: a binary result format is refused (a masked value has no binary form of its column's type)",
        });
        return;
      }
      const parameters = await this.parameterTexts(statement, text, formats, raw);
      if (!parameters) return;
      const columns = this.described.get(statement);
      this.portals.set(portal, { text, parameters, sent: 0, ...(columns !== undefined && { columns }) });
      this.pending.push(bindComplete());
      return;
    }
    if (type === "D") {
      const kind = String.fromCharCode(r.byte());
      const name = r.cstring();
      if (kind === "S") {
        await this.describeStatement(name);
        return;
      }
      const portal = this.portals.get(name);
      if (!portal) {
        this.refuseUntilSync({
          severity: "ERROR",
          code: "34000",
          message: `portal "${name}" does not exist`,
        });
        return;
      }
      if (portal.columns !== undefined) {
        this.pending.push(portal.columns ? rowDescription(portal.columns) : noData());
        return;
      }
      portal.describedAt = this.pending.length;
      this.pending.push(Buffer.alloc(0));
      return;
    }
    if (type === "C") {
      const kind = String.fromCharCode(r.byte());
      const name = r.cstring();
      if (kind === "S") {
        this.statements.delete(name);
        this.declaredTypes.delete(name);
        this.described.delete(name);
      } else this.portals.delete(name);
      this.pending.push(closeComplete());
      return;
    }
    // Execute
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name);
    if (!portal) {
      this.refuseUntilSync({ severity: "ERROR", code: "34000", message: `portal "${name}" does not exist` });
      return;
    }
    if (!portal.result) {
      if (isEmptyQuery(portal.text)) {
        this.pending.push(emptyQueryResponse());
        return;
      }
      const out: Buffer[] = [];
      const outcome = await this.run(portal.text, portal.parameters, out);
      const result =
        outcome && (outcome.status === "done" || outcome.status === "failed")
          ? outcome.results[0]
          : undefined;
      if (result && portal.describedAt !== undefined) {
        this.pending[portal.describedAt] =
          result.columns.length > 0 ? rowDescription(this.wireColumns(result)) : noData();
      }
      if (outcome?.status !== "done" || !result) {
        this.pending.push(...out, ...(outcome ? this.refusalOf(outcome) : []));
        this.skippingToSync = true;
        return;
      }
      portal.result = result;
    }
    const { result } = portal;
    const end = maxRows > 0 ? Math.min(result.rows.length, portal.sent + maxRows) : result.rows.length;
    for (let i = portal.sent; i < end; i++)
      this.pending.push(dataRow((result.rows[i] ?? []).map(toWireText)));
    portal.sent = end;
    if (end < result.rows.length) {
      this.pending.push(portalSuspended());
      return;
    }
    this.pending.push(commandComplete(commandTag(result.command, result.rowCount)));
  }

  /**
   * Describe of a prepared statement before it runs: decided by the rules, then Parse/Describe on the client's
   * own target session (nothing executes). ParameterDescription as the target says; RowDescription with every
   * column not of a text type announced as text (see TEXT_TYPES), and kept to by its portals' rows.
   */
  private async describeStatement(name: string) {
    const text = this.statements.get(name);
    if (text === undefined) {
      this.refuseUntilSync({
        severity: "ERROR",
        code: "26000",
        message: `prepared statement "${name}" does not exist`,
      });
      return;
    }
    const principal = await this.o.identify();
    if (!principal || principal.id !== this.o.principal.id) {
      this.terminate("28000", "the credential of this connection was revoked or has expired");
      return;
    }
    let outcome: DescribeOutcome;
    try {
      outcome = await describeSql({
        principal,
        connectionName: this.o.connection.name,
        input: text,
        channel: "native",
        sessionId: this.o.sessionId,
        targetSession: this.o.target,
      });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.refuseUntilSync({ severity: "ERROR", code: SQLSTATE_OF[err.code], message: err.message });
      return;
    }
    if (outcome.status === "blocked") {
      this.refuseUntilSync(blockedNotice(outcome));
      return;
    }
    if (outcome.status === "failed") {
      // The target's Parse failed: inside a transaction that aborts it, as it would for PostgreSQL's own client.
      if (this.status === "T") this.status = "E";
      this.refuseUntilSync({
        severity: "ERROR",
        code: outcome.error.sqlState ?? "XX000",
        message: outcome.error.message,
        ...(outcome.error.position !== undefined && { position: outcome.error.position }),
      });
      return;
    }
    const columns = outcome.columns.map((c) => ({
      name: c.name,
      oid: TEXT_TYPES.has(c.oid) ? c.oid : TEXT_OID,
    }));
    this.described.set(name, columns.length > 0 ? columns : null);
    this.pending.push(
      parameterDescription(outcome.parameterTypes),
      columns.length > 0 ? rowDescription(columns) : noData(),
    );
  }

  /**
   * A Bind's values as text: text-format ones as they are, binary ones decoded by their type (declared at Parse,
   * else as the target types it, asked with a Describe on the client's session). undefined when one is refused
   * (the ErrorResponse is pending, the rest skipped to Sync).
   */
  private async parameterTexts(
    statement: string,
    text: string,
    formats: number[],
    raw: (Buffer | null)[],
  ): Promise<(string | null)[] | undefined> {
    const formatOf = (i: number) => (formats.length === 1 ? formats[0] : formats[i]) ?? 0;
    if (formats.some((f) => f !== 0 && f !== 1) || (formats.length > 1 && formats.length !== raw.length)) {
      this.refuseUntilSync({
        severity: "ERROR",
        code: "08P01",
        message: "malformed message: bad parameter formats",
      });
      return undefined;
    }
    let types = this.declaredTypes.get(statement) ?? [];
    if (raw.some((v, i) => v !== null && formatOf(i) === 1 && !types[i])) {
      const principal = await this.o.identify();
      const outcome = principal
        ? await describeSql({
            principal,
            connectionName: this.o.connection.name,
            input: text,
            channel: "native",
            sessionId: this.o.sessionId,
            targetSession: this.o.target,
          }).catch((err: unknown) => {
            if (err instanceof GatewayError) return undefined;
            throw err;
          })
        : undefined;
      if (outcome?.status === "described") {
        types = raw.map((_, i) => types[i] || (outcome.parameterTypes[i] ?? 0));
      }
    }
    const texts: (string | null)[] = [];
    for (const [i, value] of raw.entries()) {
      if (value === null) texts.push(null);
      else if (formatOf(i) === 0) texts.push(value.toString("utf8"));
      else {
        const decoded = decodeBinaryParameter(types[i] ?? 0, value);
        if ("refused" in decoded) {
          this.refuseUntilSync({
            severity: "ERROR",
            code: "0A000",
            message: `$${i + 1}: ${decoded.refused}`,
          });
          return undefined;
        }
        texts.push(decoded.text);
      }
    }
    return texts;
  }

  /** An error in the extended protocol: everything up to the next Sync is skipped, as PostgreSQL does. */
  private refuseUntilSync(notice: WireNotice) {
    this.pending.push(errorResponse(notice));
    this.skippingToSync = true;
  }

  /** Sends the replies so far (a Describe not yet answered, and what follows it, waits for its Execute). */
  private flush() {
    const waiting = this.pending.findIndex((b) => b.length === 0);
    const ready = waiting < 0 ? this.pending : this.pending.slice(0, waiting);
    this.pending = waiting < 0 ? [] : this.pending.slice(waiting);
    for (const p of this.portals.values()) {
      if (p.describedAt !== undefined) p.describedAt -= ready.length;
    }
    if (ready.length > 0 && !this.closed) this.o.send(Buffer.concat(ready));
  }

  private sync() {
    // A portal described but never executed: its columns are unknown without running it (NoData for now).
    this.pending = this.pending.map((b) => (b.length === 0 ? noData() : b));
    this.skippingToSync = false;
    this.portals.delete("");
    if (this.status === "I") this.portals.clear();
    for (const p of this.portals.values()) p.describedAt = undefined;
    const replies = [...this.pending, ...this.changedParameters(), readyForQuery(this.status)];
    this.pending = [];
    if (!this.closed) this.o.send(Buffer.concat(replies));
  }

  /** A result's columns for RowDescription: a masked column is text now, whatever its type was. */
  private wireColumns(result: StatementOutcome) {
    const maskedColumns = new Set(result.masked.map(([, column]) => column));
    return result.columns.map((c, i) => ({
      name: c.name,
      oid: maskedColumns.has(i) ? TEXT_OID : (c.oid ?? TEXT_OID),
    }));
  }

  private writeResult(result: StatementOutcome, out: Buffer[]) {
    if (result.columns.length > 0) {
      // A masked column is text now, whatever its type was: a driver must not parse "****" as a number.
      out.push(rowDescription(this.wireColumns(result)));
      for (const row of result.rows) out.push(dataRow(row.map(toWireText)));
    }
    if (result.truncated) {
      out.push(
        noticeResponse({
          severity: "WARNING",
          code: "01000",
          message: `the result was cut at ${result.rowLimit} rows (MAX_ROW_LIMIT)`,
        }),
      );
    }
    out.push(commandComplete(commandTag(result.command, result.rowCount)));
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

function blockedNotice(outcome: Extract<SqlOutcome, { status: "blocked" }>): WireNotice {
  if (outcome.parseError) {
    return {
      severity: "ERROR",
      code: "42601",
      message: outcome.parseError.message,
      ...(outcome.parseError.position !== undefined && { position: outcome.parseError.position }),
    };
  }
  const refusals = outcome.reasons.filter((r) => r.action === "deny");
  const denied = refusals.map((r) => r.message);
  // What the gateway cannot carry at all (COPY) is feature_not_supported, not a rule's refusal.
  const unsupported = refusals.length > 0 && refusals.every((r) => r.ruleName === "not supported");
  return {
    severity: "ERROR",
    code: unsupported ? "0A000" : "42501",
    message: denied.length > 0 ? denied.join("; ") : "refused by the gateway's rules",
  };
}
