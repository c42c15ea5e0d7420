/**
 * A native client's COPY sub-protocol exchanges. COPY ... TO STDOUT runs as the SELECT of the same columns
 * (found by copy.ts) through the client's pipeline run, its rows then written as CopyOutResponse, CopyData,
 * CopyDone. COPY ... FROM STDIN answers CopyInResponse, then counts and drops the client's CopyData (nothing is
 * forwarded or kept) and has the pipeline decide at CopyDone (held or refused: nothing runs). Not responsible for
 * reading the COPY statement or formatting its rows (copy.ts), deciding anything (the pipeline), nor for the
 * messages outside a COPY (native-client.ts).
 */
import "server-only";
import { GatewayError } from "@/server/errors";
import { decideCopyFromStdin } from "@/server/pipeline";
import { type CopyFormat, copyRow } from "./copy";
import type { NativeHost } from "./native-host";
import { gatewayErrorNotice, refusalOf } from "./native-replies";
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

/** What a held COPY FROM STDIN's ErrorResponse says an approval of it does. */
const AFTER_COPY_IN_APPROVAL =
  "the data was not kept and the gateway does not load COPY FROM STDIN yet: an approval records the decision, it loads nothing; INSERT the rows";

export class CopyStream {
  /** a COPY ... FROM STDIN whose data the client is sending: counted and discarded, decided at CopyDone */
  private copyIn: { text: string; bytes: number } | undefined;

  constructor(private readonly client: NativeHost) {}

  /** Is a COPY FROM STDIN under way (every message goes to `inMessage` until it ends)? */
  get isReceiving(): boolean {
    return this.copyIn !== undefined;
  }

  /**
   * COPY ... TO STDOUT as the SELECT of the same columns: decided, masked and recorded as that SELECT, its rows
   * then written as CopyOutResponse, CopyData (text or CSV), CopyDone. A result cut at MAX_ROW_LIMIT is not
   * sent at all: an export must not end silently short.
   */
  async out(select: string, format: CopyFormat) {
    const out: Buffer[] = [];
    const outcome = await this.client.run(select, undefined, out);
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
      out.push(...refusalOf(outcome, this.client.o.publicUrl));
    }
    out.push(...this.client.changedParameters(), readyForQuery(this.client.status));
    if (!this.client.closed) this.client.o.send(Buffer.concat(out));
  }

  /** COPY ... FROM STDIN: the client sends its rows now (CopyData ... CopyDone); they are counted and dropped. */
  startIn(text: string, columns: number) {
    this.copyIn = { text, bytes: 0 };
    this.client.o.send(copyInResponse(columns));
  }

  /**
   * During COPY ... FROM STDIN: CopyData is counted and dropped, CopyDone has the pipeline decide (held or
   * refused: nothing runs), CopyFail ends it; Flush and Sync are ignored as PostgreSQL does; anything else is a
   * protocol violation.
   */
  async inMessage(type: string, message: Buffer) {
    const copy = this.copyIn;
    if (!copy) return;
    if (type === "d") {
      copy.bytes += message.length - 5;
      return;
    }
    if (type === "H" || type === "S") return;
    this.copyIn = undefined;
    const { o } = this.client;
    if (type === "f") {
      const why = message.subarray(5, message.length - 1).toString("utf8");
      const failed = errorResponse({
        severity: "ERROR",
        code: "57014",
        message: `COPY from stdin failed: ${why}`,
      });
      o.send(Buffer.concat([failed, readyForQuery(this.client.status)]));
      return;
    }
    if (type !== "c") {
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
    const out: Buffer[] = [];
    const principal = await this.client.samePrincipal();
    if (!principal) return;
    try {
      const outcome = await decideCopyFromStdin(
        {
          principal,
          connectionName: o.connection.name,
          input: copy.text,
          channel: "native",
          sessionId: o.sessionId,
        },
        copy.bytes,
      );
      out.push(...refusalOf(outcome, o.publicUrl, AFTER_COPY_IN_APPROVAL));
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      out.push(errorResponse(gatewayErrorNotice(err)));
    }
    out.push(readyForQuery(this.client.status));
    if (!this.client.closed) o.send(Buffer.concat(out));
  }
}
