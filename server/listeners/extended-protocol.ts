/**
 * A native client's extended query protocol: Parse, Bind, Describe (of statements and of portals), Execute,
 * Close, Flush and Sync, with the prepared statements and portals they name and the replies that wait for Sync
 * or Flush. Statements are decided when executed, with their parameters, by the pipeline (through the client's
 * run); binary parameters are decoded to text (binary-parameters.ts), results go as text only; after a refusal
 * everything up to Sync is skipped, as PostgreSQL does. A long result streams (decision 0028): an Execute's
 * maxRows rows leave, then the read waits suspended on the target for the next Execute (portal-stream.ts);
 * a short one is held and handed out per Execute. Not responsible for the simple protocol, COPY, the
 * connection's lifecycle or the transaction status's rules (native-client.ts, copy-stream.ts,
 * transaction-status.ts), nor for deciding anything (the pipeline does).
 */
import "server-only";
import type { Principal } from "@/server/auth";
import { GatewayError } from "@/server/errors";
import {
  ClientGone,
  type DescribeOutcome,
  describeSql,
  LIMITS,
  PortalClosed,
  type SqlOutcome,
} from "@/server/pipeline";
import { decodeBinaryParameter } from "./binary-parameters";
import type { NativeHost } from "./native-host";
import { blockedNotice, gatewayErrorNotice, isEmptyQuery, refusalOf, wireColumns } from "./native-replies";
import { PortalStream, SUSPENDED } from "./portal-stream";
import {
  bindComplete,
  closeComplete,
  commandComplete,
  commandTag,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  FrontendReader,
  noData,
  parameterDescription,
  parseComplete,
  portalSuspended,
  readyForQuery,
  rowDescription,
  TEXT_OID,
  toWireText,
  type WireColumn,
  type WireNotice,
} from "./wire";

/** The extended protocol's message types that Sync ends (Flush and Sync themselves are handled apart). */
export const EXTENDED_PROTOCOL = new Set(["P", "B", "D", "E", "C"]);

/**
 * Types whose values are text already: a column of one keeps its type when a statement is described before it
 * runs, since a masked value in it is text too. Any other column is announced as text then: which of its values
 * will be masked (by a rule, by lineage, by a detector) is known only once it runs.
 */
const TEXT_TYPES = new Set([TEXT_OID, 1043 /* varchar */, 1042 /* bpchar */, 19 /* name */, 18 /* char */]);

/** An input run through the client (NativeHost.run), settled: its outcome, or what it threw. */
type Ran = { outcome: SqlOutcome | undefined; out: Buffer[] } | { thrown: unknown };

/** A bound portal: its statement, its parameters, and once executed its read or the rows not yet sent. */
interface Portal {
  text: string;
  /** the columns announced when its statement was described (its rows then keep to them) */
  columns?: WireColumn[] | null;
  parameters: (string | null)[];
  /** where the RowDescription of a Describe goes in the pending replies, filled when the portal runs */
  describedAt?: number;
  /** its read streaming, suspended between Executes (portal-stream.ts) */
  reading?: { stream: PortalStream; running: Promise<Ran> };
  /** its rows held (a short result, or a streamed one's rest held while another statement ran) */
  held?: { rows: unknown[][]; end: Buffer; fails: boolean };
  sent: number;
}

export class ExtendedProtocol {
  /** after an extended-protocol message was refused, everything up to Sync is skipped (as PostgreSQL does) */
  private skippingToSync = false;
  /** prepared statements by name ("" the unnamed one) */
  private readonly statements = new Map<string, string>();
  private readonly portals = new Map<string, Portal>();
  /** the parameter types each prepared statement's Parse declared (0: unspecified) */
  private readonly declaredTypes = new Map<string, number[]>();
  /** the columns announced by a Describe of each prepared statement (null: NoData) */
  private readonly described = new Map<string, WireColumn[] | null>();
  /** extended-protocol replies not sent yet (at Sync or Flush); an empty Buffer marks a Describe to fill */
  private pending: Buffer[] = [];
  /** the portal whose read is suspended on the client's target session (one at a time: runs are in order) */
  private inFlight: Portal | undefined;

  constructor(private readonly client: NativeHost) {}

  /**
   * One of Parse, Bind, Describe, Execute, Close (EXTENDED_PROTOCOL): skipped after a refusal until Sync; a
   * malformed one is refused (08P01).
   */
  async message(type: string, message: Buffer) {
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
      const text = this.preparedStatement(statement);
      if (text === undefined) return;
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
      // A portal bound again under its name is closed first (its read, if one is suspended, ends).
      if (this.portals.get(portal)?.reading) await this.closePortal(portal);
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
      if (name !== "" && !this.portals.has(name) && (await this.describeSqlCursor(name))) return;
      const portal = this.portal(name);
      if (!portal) return;
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
      } else if (this.portals.get(name)?.reading) await this.closePortal(name);
      else this.portals.delete(name);
      this.pending.push(closeComplete());
      return;
    }
    // Execute
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portal(name);
    if (!portal) return;
    if (portal.reading) await this.readOn(portal, maxRows);
    else if (!portal.held) {
      if (isEmptyQuery(portal.text)) {
        this.pending.push(emptyQueryResponse());
        return;
      }
      if (this.inFlight) await this.settle();
      // A long result streams (portal-stream.ts): maxRows rows, then the stream waits for the next Execute.
      const stream = this.canStream(portal)
        ? new PortalStream(
            this.client,
            (columns) => this.headOfStream(portal, columns),
            maxRows,
            LIMITS.maxRowLimit,
          )
        : undefined;
      const out: Buffer[] = [];
      const running: Promise<Ran> = this.client.run(portal.text, portal.parameters, out, stream).then(
        (outcome) => ({ outcome, out }),
        (thrown: unknown) => ({ thrown }),
      );
      if (stream) {
        portal.reading = { stream, running };
        this.inFlight = portal;
      }
      const ran = stream ? await stream.until(running) : await running;
      if (ran === SUSPENDED) {
        this.pending.push(portalSuspended());
        return;
      }
      this.ended(portal, ran);
    }
    this.sendHeld(portal, maxRows);
  }

  /** The rows a held portal has still to send, up to maxRows (0: all), then its end or PortalSuspended. */
  private sendHeld(portal: Portal, maxRows: number) {
    const { held } = portal;
    if (!held) return;
    const end = maxRows > 0 ? Math.min(held.rows.length, portal.sent + maxRows) : held.rows.length;
    for (let i = portal.sent; i < end; i++) this.pending.push(dataRow((held.rows[i] ?? []).map(toWireText)));
    portal.sent = end;
    if (end < held.rows.length) {
      this.pending.push(portalSuspended());
      return;
    }
    this.pending.push(held.end);
    if (held.fails) this.skippingToSync = true;
  }

  /**
   * A portal's run has ended (its stream, if any, is done): a refusal or an error is pending; a streamed result's
   * CommandComplete is pending (its rows have left); a held result's rows wait in `held`. A stream whose rest was
   * held (`hold`) keeps those rows and ends with its error, or CommandComplete, or the cut (54000).
   */
  private ended(portal: Portal, ran: Ran) {
    const stream = portal.reading?.stream;
    portal.reading = undefined;
    if (this.inFlight === portal) this.inFlight = undefined;
    if ("thrown" in ran) throw ran.thrown;
    const { outcome, out } = ran;
    const result =
      outcome && (outcome.status === "done" || outcome.status === "failed") ? outcome.results[0] : undefined;
    if (result && portal.describedAt !== undefined) {
      this.pending[portal.describedAt] =
        result.columns.length > 0 ? rowDescription(wireColumns(result)) : noData();
    }
    const refusal = () =>
      Buffer.concat([...out, ...(outcome ? refusalOf(outcome, this.client.o.publicUrl) : [])]);
    if (stream?.held) {
      const cut = stream.isCut;
      portal.held = {
        rows: stream.held,
        end: cut
          ? errorResponse({
              severity: "ERROR",
              code: "54000",
              message: `the rest of this portal was held in the gateway's memory while another statement ran on the session, and cut at MAX_ROW_LIMIT (${LIMITS.maxRowLimit}) rows: read a portal to its end (or close it) before running another statement`,
            })
          : outcome?.status === "done" && result
            ? commandComplete(commandTag(result.command, result.rowCount))
            : refusal(),
        fails: cut || outcome?.status !== "done" || !result,
      };
      portal.sent = 0;
      return;
    }
    if (outcome?.status !== "done" || !result) {
      this.pending.push(refusal());
      this.skippingToSync = true;
      return;
    }
    const tag = commandComplete(commandTag(result.command, result.rowCount));
    if (result.streamed) {
      // Its rows have left (and its completion is recorded): only CommandComplete is left to say.
      this.pending.push(tag);
      return;
    }
    portal.held = { rows: result.rows, end: tag, fails: false };
  }

  /** An Execute continuing a suspended portal: its stream goes on, or, when it cannot now, its rest is held. */
  private async readOn(portal: Portal, maxRows: number) {
    const reading = portal.reading;
    if (!reading) return;
    if (!this.canStream(portal)) {
      await this.holdRest(portal);
      return;
    }
    // The replies pending go before the rows (canStream: none of them waits for its Describe).
    if (this.pending.length > 0 && !this.client.closed) this.client.o.send(Buffer.concat(this.pending));
    this.pending = [];
    reading.stream.more(maxRows);
    const ran = await reading.stream.until(reading.running);
    if (ran === SUSPENDED) {
      this.pending.push(portalSuspended());
      return;
    }
    this.ended(portal, ran);
  }

  /** The rest of a suspended portal's result read into memory (another statement needs the session). */
  private async holdRest(portal: Portal) {
    const reading = portal.reading;
    if (!reading) return;
    reading.stream.hold();
    this.ended(portal, await reading.running);
  }

  /**
   * Before anything else uses the client's target session (another Execute, a Describe, a simple Query): a
   * portal whose read is suspended there has its rest held (PostgreSQL lets a client interleave them).
   */
  async settle() {
    const portal = this.inFlight;
    if (portal) await this.holdRest(portal);
  }

  /** is a portal's read suspended on the client's target session? */
  get isReading(): boolean {
    return this.inFlight !== undefined;
  }

  /** Closes a portal: a read of it still suspended is stopped (cancelled on the target) and recorded closed. */
  private async closePortal(name: string) {
    const portal = this.portals.get(name);
    this.portals.delete(name);
    const reading = portal?.reading;
    if (!portal || !reading) return;
    reading.stream.close(
      new PortalClosed(`the client closed the portal after ${reading.stream.rowsSent} rows`),
    );
    const ran = await reading.running;
    if (this.inFlight === portal) this.inFlight = undefined;
    portal.reading = undefined;
    if ("thrown" in ran) throw ran.thrown;
  }

  /** The client went away: a suspended read stops (its run then records that the client went away). */
  close() {
    this.inFlight?.reading?.stream.close(new ClientGone());
  }

  /**
   * May this portal's result stream? Its rows would leave before Sync, after the replies pending: not when a
   * Describe of another portal waits among them (its RowDescription is known only once that portal runs).
   */
  private canStream(portal: Portal): boolean {
    return this.pending.every((b, i) => b.length > 0 || i === portal.describedAt);
  }

  /**
   * What goes before a streamed portal's first rows: the replies pending, its Describe (if one waits) answered
   * with the columns as the stream announces them; they all leave now.
   */
  private headOfStream(portal: Portal, columns: WireColumn[]): Buffer {
    if (portal.describedAt !== undefined) this.pending[portal.describedAt] = rowDescription(columns);
    const head = Buffer.concat(this.pending);
    this.pending = [];
    for (const p of this.portals.values()) p.describedAt = undefined;
    return head;
  }

  /**
   * Describe of a prepared statement before it runs: decided by the rules, then Parse/Describe on the client's
   * own target session (nothing executes). ParameterDescription as the target says; RowDescription with every
   * column not of a text type announced as text (see TEXT_TYPES), and kept to by its portals' rows.
   */
  private async describeStatement(name: string) {
    const text = this.preparedStatement(name);
    if (text === undefined) return;
    if (this.inFlight) await this.settle();
    const principal = await this.client.samePrincipal();
    if (!principal) return;
    let outcome: DescribeOutcome;
    try {
      outcome = await this.describe(principal, text);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.refuseUntilSync(gatewayErrorNotice(err));
      return;
    }
    if (outcome.status === "blocked") {
      this.refuseUntilSync(blockedNotice(outcome));
      return;
    }
    if (outcome.status === "failed") {
      // The target's Parse failed: inside a transaction that aborts it, as it would for PostgreSQL's own client.
      if (this.client.status === "T") this.client.status = "E";
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
      if (this.inFlight) await this.settle();
      // The same check as every other use of the principal: a revoked credential ends the client here.
      const principal = await this.client.samePrincipal();
      if (!principal) return undefined;
      const outcome = await this.describe(principal, text).catch((err: unknown) => {
        if (err instanceof GatewayError) return undefined;
        throw err;
      });
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

  /** A prepared statement's text, or undefined when there is none of that name (refused: 26000). */
  private preparedStatement(name: string): string | undefined {
    const text = this.statements.get(name);
    if (text === undefined) {
      this.refuseUntilSync({
        severity: "ERROR",
        code: "26000",
        message: `prepared statement "${name}" does not exist`,
      });
    }
    return text;
  }

  /** A bound portal, or undefined when there is none of that name (refused: 34000). */
  /**
   * Describe of a portal this protocol did not bind: a cursor the client opened with SQL's DECLARE (psycopg 3's
   * server-side cursors declare, then Describe the portal, then FETCH). Answered as a Describe of a FETCH from it
   * on the client's own session, decided by the rules like any FETCH (nothing executes): every column not of a
   * text type announced as text, as for a described statement, so the FETCHes' masked values fit what was
   * announced. False when there is no such cursor (the caller answers 34000 as PostgreSQL does).
   */
  private async describeSqlCursor(name: string): Promise<boolean> {
    const principal = await this.client.samePrincipal();
    if (!principal) return true;
    const outcome = await this.describe(principal, `FETCH NEXT FROM "${name.replaceAll('"', '""')}"`).catch(
      (err: unknown) => {
        if (err instanceof GatewayError) return undefined;
        throw err;
      },
    );
    if (outcome?.status !== "described") return false;
    const columns = outcome.columns.map((c) => ({
      name: c.name,
      oid: TEXT_TYPES.has(c.oid) ? c.oid : TEXT_OID,
    }));
    this.pending.push(columns.length > 0 ? rowDescription(columns) : noData());
    return true;
  }

  private portal(name: string): Portal | undefined {
    const portal = this.portals.get(name);
    if (!portal) {
      this.refuseUntilSync({ severity: "ERROR", code: "34000", message: `portal "${name}" does not exist` });
    }
    return portal;
  }

  /** Parse/Describe of a statement on the client's own target session, decided by the rules first. */
  private describe(principal: Principal, text: string): Promise<DescribeOutcome> {
    const { o } = this.client;
    return describeSql({
      principal,
      connectionName: o.connection.name,
      input: text,
      channel: "native",
      sessionId: o.sessionId,
      targetSession: o.target,
    });
  }

  /** An error in the extended protocol: everything up to the next Sync is skipped, as PostgreSQL does. */
  private refuseUntilSync(notice: WireNotice) {
    this.pending.push(errorResponse(notice));
    this.skippingToSync = true;
  }

  /** Sends the replies so far (a Describe not yet answered, and what follows it, waits for its Execute). */
  flush() {
    const waiting = this.pending.findIndex((b) => b.length === 0);
    const ready = waiting < 0 ? this.pending : this.pending.slice(0, waiting);
    this.pending = waiting < 0 ? [] : this.pending.slice(waiting);
    for (const p of this.portals.values()) {
      if (p.describedAt !== undefined) p.describedAt -= ready.length;
    }
    if (ready.length > 0 && !this.client.closed) this.client.o.send(Buffer.concat(ready));
  }

  /**
   * Sync: the replies so far and ReadyForQuery. The unnamed portal is closed, and outside a transaction every
   * portal (as PostgreSQL's implicit transaction ends); a read of one still suspended is stopped first. Inside
   * a transaction a named portal's read stays suspended on the target until it is read on, closed, or the
   * transaction ends.
   */
  sync(): Promise<void> | undefined {
    const reading = this.inFlight;
    if (reading && (this.client.status === "I" || this.portals.get("") === reading)) {
      const name = [...this.portals].find(([, p]) => p === reading)?.[0] ?? "";
      return this.closePortal(name).then(() => this.sync());
    }
    // A portal described but never executed: its columns are unknown without running it (NoData for now).
    this.pending = this.pending.map((b) => (b.length === 0 ? noData() : b));
    this.skippingToSync = false;
    this.portals.delete("");
    if (this.client.status === "I") this.portals.clear();
    for (const p of this.portals.values()) p.describedAt = undefined;
    const replies = [...this.pending, ...this.client.changedParameters(), readyForQuery(this.client.status)];
    this.pending = [];
    if (!this.client.closed) this.client.o.send(Buffer.concat(replies));
    return undefined;
  }
}
