/**
 * A native client's read streamed instead of held (decision 0028): once a single statement's result passes
 * `keep` rows on the client's pinned session, its rows are masked batch by batch (the same masker, lineage and
 * detectors as a whole result: a row's masking never depends on other rows) and handed to the client's sink as
 * they come. The recording keeps its guarantee with two durable writes, none per batch: the result event (its
 * columns and the first RECORDED_RESULT_ROWS masked rows, the preview a whole result records) is appended before
 * the first row leaves, and a completion event (the row count, or the error, the cancel, the client gone) before
 * the client is told the result ended. Not responsible for reading the target (server/targets/row-stream.ts),
 * for the wire messages (server/listeners/result-stream.ts), nor for which results stream (server/pipeline.ts).
 */
import "server-only";
import { GatewayError } from "@/server/errors";
import type { GatewayCore } from "@/server/gateway";
import { BatchMasker, type ColumnRef, type MaskedCell, type MaskingConfig } from "@/server/masking";
import type { ResultStream, ResultColumn as TargetColumn } from "@/server/targets/postgres";

/** Where a streamed result's masked rows go (a native client's socket). */
export interface ResultSink<C> {
  /** The result streams: its columns (masked ones with their lineage), before its first rows. */
  start(columns: C[]): void;
  /** Masked rows; resolves once they have left for the client, rejects when the client is gone. */
  write(rows: unknown[][]): Promise<void>;
  /** has the client gone away (its socket closed)? */
  readonly isGone: boolean;
  /** rows that have left, when the sink counts them itself (a portal read in pieces can stop mid-batch) */
  readonly rowsSent?: number;
}

/** A result of at most this many rows (or RECORDED_RESULT_ROWS, if more) is held whole, as before. */
export const STREAM_AFTER_ROWS = 1000;

/** How a streamed result ended, as the completion event records it. */
export interface StreamEnd {
  status: "done" | "failed" | "cancelled";
  command: string;
  durationMs: number;
  error?: { code: string; message: string; sqlState?: string } & Record<string, unknown>;
  /** why a result that did not fail ended before its last row (a portal closed by its client) */
  note?: string;
}

export class StreamedResult<C extends { name: string }> implements ResultStream {
  readonly keep: number;
  private refs: ColumnRef[] = [];
  /** the result's columns as the client and the recording see them (set by start) */
  columns: C[] = [];
  /** rows masked and handed to the client whole */
  private handedOver = 0;
  private preview: { rows: unknown[][]; masked: MaskedCell[] } | undefined;
  private readonly types = new Set<string>();
  private readonly maskedColumns = new Set<number>();
  private maskedFields = 0;

  constructor(
    private readonly o: {
      record: GatewayCore["record"];
      sessionId: string;
      statementEventId: number;
      reviewId?: string;
      statement: { index: number; text: string };
      masking: MaskingConfig;
      recordedRows: number;
      sink: ResultSink<C>;
      /** the target's columns as masked (their refs) and shown (lineage) */
      shape(columns: TargetColumn[]): { refs: ColumnRef[]; columns: C[] };
    },
  ) {
    this.keep = Math.max(STREAM_AFTER_ROWS, o.recordedRows);
  }

  /** rows sent to the client (its sink's count when it keeps one) */
  get rowCount(): number {
    return this.o.sink.rowsSent ?? this.handedOver;
  }

  /** has the client gone away? */
  get isGone(): boolean {
    return this.o.sink.isGone;
  }

  /** Has the result event (the preview) been recorded, so rows may have left? */
  get isStarted(): boolean {
    return this.preview !== undefined;
  }

  async start(_index: number, columns: TargetColumn[]) {
    const shaped = this.o.shape(columns);
    this.refs = shaped.refs;
    this.columns = shaped.columns;
  }

  async take(rows: unknown[][]) {
    const { o } = this;
    if (o.sink.isGone) throw new ClientGone();
    const masker = new BatchMasker(this.refs, o.masking);
    masker.push(rows);
    let masked: Awaited<ReturnType<BatchMasker["result"]>>;
    try {
      masked = await masker.result();
    } catch (err) {
      // Nothing unmasked leaves the gateway: no masking, no more rows.
      console.error("[portcullis] masking failed:", err instanceof Error ? err.message : err);
      throw new GatewayError(
        "unavailable",
        "the result could not be masked, so it is not returned (fail closed)",
      );
    }
    for (const [, column, type] of masked.masked) {
      this.types.add(type);
      this.maskedColumns.add(column);
    }
    this.maskedFields += masked.masked.length;
    if (!this.preview) {
      this.preview = {
        rows: masked.rows.slice(0, o.recordedRows),
        masked: masked.masked.filter(([row]) => row < o.recordedRows),
      };
      // Write-ahead: the result (its preview) is stored before its first row leaves.
      await o.record.after.appendSessionEvent(o.sessionId, "result", {
        statementEventId: o.statementEventId,
        ...(o.reviewId && { reviewId: o.reviewId }),
        status: "streaming",
        streamed: true,
        results: [this.recorded("SELECT", null, 0)],
      });
      o.sink.start(this.columns);
    }
    await o.sink.write(masked.rows);
    this.handedOver += masked.rows.length;
  }

  /** The completion event, stored before the client is told the result ended (CommandComplete or the error). */
  async finish(end: StreamEnd) {
    const { o } = this;
    await o.record.after.appendSessionEvent(
      o.sessionId,
      "result",
      {
        statementEventId: o.statementEventId,
        ...(o.reviewId && { reviewId: o.reviewId }),
        status: end.status,
        streamed: true,
        durationMs: end.durationMs,
        rowCount: this.rowCount,
        results: [this.recorded(end.command, this.rowCount, end.durationMs)],
        ...(end.error && { error: end.error }),
        ...(end.note && { note: end.note }),
      },
      { maskedFields: this.maskedFields },
    );
  }

  /** The result as the recording keeps it (the shape of a whole result's, its preview the first rows). */
  private recorded(command: string, rowCount: number | null, durationMs: number) {
    const preview = this.preview ?? { rows: [], masked: [] };
    return {
      statementIndex: this.o.statement.index,
      statement: this.o.statement.text,
      command,
      columns: this.columns,
      rows: preview.rows,
      masked: preview.masked,
      rowCount,
      truncated: false,
      durationMs,
      streamed: true,
      recordedRows: preview.rows.length,
      maskedTypes: [...this.types],
      maskedColumns: [...this.maskedColumns].map((k) => this.columns[k]?.name ?? ""),
    };
  }
}

/** The client went away while its result streamed. */
export class ClientGone extends Error {
  constructor() {
    super("the client went away while its result was sent");
  }
}

/**
 * A portal read in pieces that its client closed before its end (ClosePortal, Sync outside a transaction, the
 * portal bound again), or whose rest the gateway stopped holding: not a failure, the rows asked for all left.
 */
export class PortalClosed extends Error {}
