/**
 * A native client's COPY sub-protocol exchanges. COPY ... TO STDOUT runs as the SELECT of the same columns
 * (found by copy.ts) through the client's pipeline run, its rows written as CopyOutResponse, CopyData, CopyDone
 * (a long result streamed as it comes, result-stream.ts). COPY ... FROM STDIN is decided by the pipeline before its data flows: refused at once (no
 * CopyInResponse, as PostgreSQL refuses a COPY it cannot run); allowed, each CopyData is carried to the target on
 * the client's own session as it arrives and CopyDone / CopyFail answered with the target's `COPY n` or error;
 * held by the rules, the data is gathered in memory (up to COPY_IN_HELD_MAX_BYTES) so the pipeline can bind the
 * approval to it and load it when approved. Not responsible for reading the COPY statement or formatting its
 * rows (copy.ts), deciding or recording anything (the pipeline), nor for the messages outside a COPY
 * (native-client.ts).
 */
import "server-only";
import { GatewayError } from "@/server/errors";
import {
  type CopyInStart,
  decideCopyFromStdin,
  type SqlOutcome,
  type SqlRequest,
  startCopyFromStdin,
} from "@/server/pipeline";
import { type CopyFormat, copyRow } from "./copy";
import type { NativeHost } from "./native-host";
import { gatewayErrorNotice, refusalOf } from "./native-replies";
import { WireResultStream } from "./result-stream";
import { statusAfter } from "./transaction-status";
import {
  commandComplete,
  commandTag,
  copyData,
  copyDone,
  copyInResponse,
  copyOutResponse,
  errorResponse,
  readyForQuery,
  toWireText,
} from "./wire";

/**
 * How much of a held COPY FROM STDIN's data is kept in memory to bind its approval to it (a keyed hash of all of
 * it) and to load it once approved. Larger loads are refused with why: split them, or have COPY FROM allowed.
 */
export const COPY_IN_HELD_MAX_BYTES = 16 * 1024 * 1024;

/** What a held COPY FROM STDIN's ErrorResponse says an approval of it does. */
const AFTER_COPY_IN_APPROVAL =
  "once it is approved, send the same COPY with exactly the same data again on this connection: it loads then, once, here, in your transaction if one is open; the approval expires like the review";

type CopyIn =
  | { mode: "load"; text: string; load: Extract<CopyInStart, { status: "loading" }>["load"] }
  | { mode: "collect"; text: string; chunks: Buffer[]; bytes: number; complete: boolean };

export class CopyStream {
  /** a COPY ... FROM STDIN whose data the client is sending: carried to the target, or gathered (held) */
  private copyIn: CopyIn | undefined;

  constructor(private readonly client: NativeHost) {}

  /**
   * A CancelRequest while a COPY FROM STDIN is being loaded: the target's COPY is failed now (CopyFail, nothing
   * loaded; recorded then); the client's remaining data is dropped and its CopyDone answered with the 57014.
   */
  cancel() {
    if (this.copyIn?.mode !== "load") return;
    void this.copyIn.load.fail("canceling statement due to user request").catch(() => {});
  }

  /** Is a COPY FROM STDIN under way (every message goes to `inMessage` until it ends)? */
  get isReceiving(): boolean {
    return this.copyIn !== undefined;
  }

  /**
   * COPY ... TO STDOUT as the SELECT of the same columns: decided, masked and recorded as that SELECT, its rows
   * written as CopyOutResponse, CopyData (text or CSV), CopyDone; a long one streamed (decision 0028), with no
   * row limit. A result cut at MAX_ROW_LIMIT (none is, now that a COPY's single SELECT streams) would not be
   * sent at all: an export must not end silently short.
   */
  async out(select: string, format: CopyFormat) {
    const out: Buffer[] = [];
    const outcome = await this.client.run(select, undefined, out, new WireResultStream(this.client, format));
    const result = outcome?.status === "done" ? outcome.results[0] : undefined;
    if (result?.streamed) {
      // Its CopyOutResponse and rows have left as they came (result-stream.ts); its end was recorded.
      out.push(copyDone(), commandComplete(commandTag("COPY", result.rowCount)));
    } else if (outcome && result?.truncated) {
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
      out.push(...refusalOf(outcome, this.client.o.publicUrl));
    }
    out.push(...this.client.changedParameters(), readyForQuery(this.client.status));
    if (!this.client.closed) this.client.o.send(Buffer.concat(out));
  }

  /**
   * COPY ... FROM STDIN: decided before any data flows. Refused: its ErrorResponse and ReadyForQuery, no
   * CopyInResponse. Otherwise CopyInResponse, and the client's CopyData follow (inMessage).
   */
  async startIn(text: string, columns: number, binary: boolean) {
    const { o } = this.client;
    const request = await this.request(text);
    if (!request) return;
    let started: CopyInStart;
    try {
      started = await startCopyFromStdin(request);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.reply([errorResponse(gatewayErrorNotice(err))]);
      return;
    }
    if (started.status === "blocked" || started.status === "failed") {
      this.follow(started);
      this.reply(refusalOf(started, o.publicUrl));
      return;
    }
    this.copyIn =
      started.status === "loading"
        ? { mode: "load", text, load: started.load }
        : { mode: "collect", text, chunks: [], bytes: 0, complete: true };
    if (!this.client.closed) o.send(copyInResponse(columns, binary));
  }

  /**
   * During COPY ... FROM STDIN: CopyData goes to the target (or is gathered, held), CopyDone ends it with the
   * target's `COPY n` or error (held: the pipeline decides with the whole data), CopyFail ends it loading
   * nothing; Flush and Sync are ignored as PostgreSQL does; anything else is a protocol violation (the target's
   * COPY is failed first, so nothing of it stays).
   */
  async inMessage(type: string, message: Buffer) {
    const copy = this.copyIn;
    if (!copy) return;
    if (type === "d") {
      const data = message.subarray(5);
      if (copy.mode === "load") {
        await copy.load.write(data);
      } else if (copy.complete && copy.bytes + data.length <= COPY_IN_HELD_MAX_BYTES) {
        copy.chunks.push(Buffer.from(data));
        copy.bytes += data.length;
      } else {
        // Over the bound: nothing more is kept; the size is still counted for the refusal.
        copy.complete = false;
        copy.chunks = [];
        copy.bytes += data.length;
      }
      return;
    }
    if (type === "H" || type === "S") return;
    this.copyIn = undefined;
    const { o } = this.client;
    if (type !== "c" && type !== "f") {
      if (copy.mode === "load") await copy.load.fail(`unexpected message type "${type}" during COPY`);
      o.send(
        errorResponse({
          severity: "FATAL",
          code: "08P01",
          message: `unexpected message type "${type}" during COPY from stdin`,
        }),
      );
      o.end();
      return;
    }
    const why = type === "f" ? message.subarray(5, message.length - 1).toString("utf8") : undefined;
    let outcome: SqlOutcome;
    try {
      if (copy.mode === "load") {
        // The data is committed only now: a credential revoked (or access removed) while it flowed loads
        // nothing (the client is ended: FATAL 28000, its target session closed).
        if (why === undefined && !(await this.client.samePrincipal())) {
          await copy.load.fail("the credential of this connection was revoked during the COPY");
          return;
        }
        outcome = await (why === undefined ? copy.load.done() : copy.load.fail(why));
      } else if (why !== undefined) {
        // Held and failed by the client: nothing was decided, recorded or sent; PostgreSQL's own answer.
        this.reply([
          errorResponse({ severity: "ERROR", code: "57014", message: `COPY from stdin failed: ${why}` }),
        ]);
        return;
      } else {
        const request = await this.request(copy.text);
        if (!request) return;
        const { chunks, bytes, complete } = copy;
        copy.chunks = [];
        outcome = await decideCopyFromStdin(request, {
          chunks,
          bytes,
          complete,
          limit: COPY_IN_HELD_MAX_BYTES,
        });
      }
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.reply([errorResponse(gatewayErrorNotice(err))]);
      return;
    }
    this.follow(outcome);
    const result = outcome.status === "done" ? outcome.results[0] : undefined;
    this.reply(
      result
        ? [commandComplete(commandTag("COPY", result.rowCount))]
        : refusalOf(outcome, o.publicUrl, AFTER_COPY_IN_APPROVAL),
    );
  }

  /** The pipeline request for this COPY, as the client's principal as it is now (undefined: terminated). */
  private async request(text: string): Promise<SqlRequest | undefined> {
    const principal = await this.client.samePrincipal();
    if (!principal) return undefined;
    const { o } = this.client;
    return {
      principal,
      connectionName: o.connection.name,
      input: text,
      channel: "native",
      sessionId: o.sessionId,
      targetSession: o.target,
    };
  }

  /** A COPY that failed on the target leaves the client's open transaction failed, as PostgreSQL does. */
  private follow(outcome: SqlOutcome) {
    if (outcome.status === "failed") this.client.status = statusAfter(this.client.status, [], true);
  }

  private reply(messages: Buffer[]) {
    if (this.client.closed) return;
    this.client.o.send(Buffer.concat([...messages, readyForQuery(this.client.status)]));
  }
}
