/**
 * A native client's streamed result on the wire (the pipeline's ResultSink, decision 0028): RowDescription (or,
 * for COPY ... TO STDOUT, CopyOutResponse and the header line) when the pipeline says the result streams, then
 * each masked batch as DataRows (or CopyData), each write waiting until the client's socket has taken the last
 * (back-pressure: a client that stops reading stops the batches, and the target's socket is paused behind them).
 * A streamed column that is not of a text type is announced as text: which of its values a detector masks is
 * known only as the rows come (as for a Describe before a run, extended-protocol.ts). An extended-protocol
 * Execute sends no RowDescription of its own: its `head` gives what goes before the first rows (the replies
 * pending since Sync, a portal's Describe answered with these columns). Not responsible for the
 * end of the result (CommandComplete, CopyDone or the error: native-client.ts, copy-stream.ts), nor for masking
 * or recording (the pipeline).
 */
import "server-only";
import { ClientGone, type ResultColumn, type ResultSink } from "@/server/pipeline";
import { type CopyFormat, copyRow } from "./copy";
import type { NativeHost } from "./native-host";
import {
  copyData,
  copyOutResponse,
  dataRow,
  rowDescription,
  TEXT_OID,
  toWireText,
  type WireColumn,
} from "./wire";

/** Types whose values are text already: a masked value in one is text too, so they keep their type. */
const TEXT_TYPES = new Set([TEXT_OID, 1043 /* varchar */, 1042 /* bpchar */, 19 /* name */, 18 /* char */]);

export class WireResultStream implements ResultSink<ResultColumn> {
  /** has RowDescription (CopyOutResponse) been sent: the client then expects the result's end */
  isStarted = false;

  /**
   * `copy`: the rows go as COPY ... TO STDOUT's CopyData in this format; otherwise as DataRows, after a
   * RowDescription or, when given, what `head` makes of the columns as announced.
   */
  constructor(
    private readonly client: Pick<NativeHost, "o" | "closed">,
    private readonly copy?: CopyFormat,
    private readonly head?: (columns: WireColumn[]) => Buffer,
  ) {}

  get isGone(): boolean {
    return this.client.closed;
  }

  start(columns: ResultColumn[]) {
    this.isStarted = true;
    const { copy } = this;
    if (copy) {
      const head = [copyOutResponse(columns.length)];
      if (copy.header)
        head.push(
          copyData(
            copyRow(
              columns.map((c) => c.name),
              copy,
            ),
          ),
        );
      this.client.o.send(Buffer.concat(head));
      return;
    }
    const announced = columns.map((c) => ({
      name: c.name,
      oid: c.oid !== undefined && TEXT_TYPES.has(c.oid) ? c.oid : TEXT_OID,
    }));
    this.client.o.send(this.head ? this.head(announced) : rowDescription(announced));
  }

  async write(rows: unknown[][]) {
    const { copy } = this;
    const messages = copy
      ? rows.map((row) => copyData(copyRow(row.map(toWireText), copy)))
      : rows.map((row) => dataRow(row.map(toWireText)));
    if (this.client.closed) throw new ClientGone();
    this.client.o.send(Buffer.concat(messages));
    await this.client.o.writable();
    if (this.client.closed) throw new ClientGone();
  }
}
