/**
 * The PostgreSQL driver: a postgres.js pool per connection under the gateway's credentials, statement timeout,
 * row limit applied while streaming (a cursor, so memory stays flat however large the table), cancellation,
 * and values normalised to JSON. Not responsible for deciding whether a statement may run.
 */
import "server-only";
import net from "node:net";
import postgres from "postgres";
import { getSettings } from "@/server/config";
import { openConnectionSecret } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { processSingleton } from "@/server/singleton";
import { startCopyIn, type TargetCopyIn } from "./copy-in";

export type { TargetCopyIn } from "./copy-in";

import { describeLoginError, describeNetworkError, type LoginTarget } from "./describe-error";
import { typeName } from "./pg-types";
import { ReadyStatusTap } from "./ready-status";
import { readRows, StreamStopped } from "./row-stream";

export { StreamStopped } from "./row-stream";

export interface ResultColumn {
  name: string;
  type: string;
  /** "schema.table" the column comes from, when it is a plain table column */
  table?: string;
  /** the type's OID on the target (what a native client is told in RowDescription) */
  oid?: number;
}

export interface StatementResult {
  command: string;
  columns: ResultColumn[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  /** per column, the attribute number in its table when the target reports one (a plain column), else 0 */
  attnums?: number[];
  /** its rows went to RunOptions.stream as they arrived (`rows` is empty; `rowCount` counts them) */
  streamed?: boolean;
}

/** What the target said about an error beyond its message; read only after masking (server/masking). */
export interface TargetErrorFields {
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
}

export class TargetError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    readonly position: number | undefined,
    readonly fields: TargetErrorFields = {},
  ) {
    super(message);
  }
}

type Sql = postgres.Sql<Record<string, never>>;

interface Pool {
  key: string;
  sql: Sql;
  /**
   * Sessions whose transactions are read-only by default, for input classified as reads: the target refuses
   * whatever in it writes after all (a function or a view whose body the classifier cannot see). Set in the
   * startup packet, so `RESET ALL` and `SET ... TO DEFAULT` keep it; only an explicit request for read-write
   * mode turns it off, and the classifier makes that a write. Connects only when first used.
   */
  reads: Sql;
  tableNames: Map<number, string | null>;
  /** who the pool logs in as, where: named in login errors */
  login: LoginTarget;
}

const pools = processSingleton("pgPools", () => new Map<string, Pool>());

export const DEFAULT_STATEMENT_TIMEOUT_MS = getSettings().sql.statementTimeoutMs;
/**
 * Rows asked of the target per cursor round trip: the target waits between batches, so a large read is
 * faster in big ones (100,000 rows: ~0.41 s in batches of 5,000, ~0.32 s of 20,000); the limit plus one (to
 * know it was passed) when that is smaller.
 */
const CURSOR_BATCH = 20_000;

/** Text stays text: timestamps and dates are shown as PostgreSQL prints them, not re-parsed into Date. */
const asText = {
  to: 25,
  from: [1082, 1083, 1114, 1184, 1266, 1186],
  serialize: (x: unknown) => String(x),
  parse: (x: string) => x,
};

type ConnectionSecret = Awaited<ReturnType<typeof openConnectionSecret>>;

const CONNECT_TIMEOUT_S = 10;

/** A postgres.js instance on the target under the gateway's credentials (a pool, or one pinned session). */
function connect(
  row: ConnectionSecret["row"],
  secret: ConnectionSecret["secret"],
  options: {
    readOnly?: boolean;
    pinned?: {
      onnotice: (notice: { code?: string }) => void;
      onnotify: (channel: string, payload: string) => void;
      onparameter: (name: string, value: string) => void;
      onclose: () => void;
      /** reads every byte the target sends before postgres.js does (ReadyStatusTap) */
      tap: ReadyStatusTap;
      /** the session's socket, once connected (a streamed result pauses it) */
      onSocket: (socket: net.Socket) => void;
    };
  },
): Sql {
  const { readOnly = false, pinned } = options;
  return postgres({
    host: row.host,
    port: row.port,
    database: row.database ?? "postgres",
    username: row.username,
    password: secret.password ?? "",
    max: pinned ? 1 : Number(row.options.poolSize ?? 10),
    // A pinned session lives as long as its client: never closed for idleness or age behind the client's back.
    ...(pinned
      ? {
          idle_timeout: 0,
          max_lifetime: 0,
          onclose: pinned.onclose,
          onnotify: pinned.onnotify,
          onparameter: pinned.onparameter,
          socket: tappedSockets(row.host, row.port, pinned.tap, pinned.onSocket),
        }
      : { idle_timeout: 60 }),
    connect_timeout: CONNECT_TIMEOUT_S,
    prepare: false,
    onnotice: pinned?.onnotice ?? (() => {}),
    types: { text: asText },
    // Sent in the startup packet: no extra round trip per run, and RESET ALL returns to it.
    connection: {
      application_name: "portcullis",
      statement_timeout: DEFAULT_STATEMENT_TIMEOUT_MS,
      ...(readOnly && { default_transaction_read_only: true }),
    },
  }) as unknown as Sql;
}

/**
 * Sockets to the target for one pinned session: the first one's bytes are read by the tap before postgres.js reads
 * them (its listener is added first). postgres.js opens its cancel requests through this too: those sockets carry
 * no tap (the server answers a cancel request with nothing). No TLS is negotiated on them (connect() asks for
 * none), so the tap reads the protocol itself.
 */
function tappedSockets(
  host: string,
  port: number,
  tap: ReadyStatusTap,
  onSocket: (socket: net.Socket) => void,
): () => Promise<net.Socket> {
  let tapped = false;
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`connect timeout ${host}:${port}`), { code: "CONNECT_TIMEOUT" }));
      }, CONNECT_TIMEOUT_S * 1000);
      const failed = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once("error", failed);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", failed);
        if (!tapped) {
          tapped = true;
          socket.on("data", (chunk: Buffer) => tap.push(chunk));
          onSocket(socket);
        }
        resolve(socket);
      });
    });
}

/** `version` (the connection's updatedAt) lets a caller that already read the connection skip re-reading it. */
async function poolFor(connectionId: string, version?: string): Promise<Pool> {
  const cached = pools.get(connectionId);
  if (cached && version !== undefined && cached.key === version) return cached;
  const { row, secret } = await openConnectionSecret(connectionId);
  if (row.kind !== "postgres")
    throw new GatewayError("bad_request", `${row.name} is an SSH connection, not a database`);
  const key = row.updatedAt.toISOString();
  const existing = pools.get(connectionId);
  if (existing && existing.key === key) return existing;
  if (existing) {
    void existing.sql.end({ timeout: 5 });
    void existing.reads.end({ timeout: 5 });
  }
  const open = (readOnly: boolean) => connect(row, secret, { readOnly });
  const pool = {
    key,
    sql: open(false),
    reads: open(true),
    tableNames: new Map<number, string | null>(),
    login: { host: row.host, database: row.database ?? "postgres", username: row.username },
  };
  pools.set(connectionId, pool);
  return pool;
}

export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (Array.isArray(value)) return value.map(toJsonValue);
  return value;
}

function toTargetError(err: unknown, connectionId: string, pinned = false): Error {
  const e = err as {
    code?: string;
    message?: string;
    position?: string | number;
    detail?: string;
    hint?: string;
    schema_name?: string;
    table_name?: string;
  };
  if (e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new TargetError(
      e.message ?? "the target refused the statement",
      e.code,
      e.position ? Number(e.position) : undefined,
      {
        ...(e.detail && { detail: e.detail }),
        ...(e.hint && { hint: e.hint }),
        ...(e.schema_name && { schema: e.schema_name }),
        ...(e.table_name && { table: e.table_name }),
      },
    );
  }
  const network = describeNetworkError(err, "the target", 0);
  if (network) return new GatewayError("target_unavailable", network.message.replace(":0", ""));
  if (
    e?.code === "CONNECTION_DESTROYED" ||
    e?.code === "CONNECTION_CLOSED" ||
    e?.code === "CONNECTION_ENDED"
  ) {
    if (!pinned) pools.delete(connectionId);
    return new GatewayError("target_unavailable", "the connection to the target was closed");
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Runs in the caller's session, after its statements, so whatever it set (search_path) is still in force: every
 * type and operator is named with its schema, so nothing the caller created can answer in the catalog's place
 * (the names decide masking, and they are cached for every caller).
 */
const TABLE_NAMES_QUERY =
  "select c.oid::pg_catalog.int4 as oid, n.nspname as schema, c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid operator(pg_catalog.=) c.relnamespace where c.oid operator(pg_catalog.=) any($1::pg_catalog.oid[])";

/**
 * A session that could not start is the target's or the connection's settings' fault, never the caller's
 * statement: a gateway error (502) in words, whatever the server answered.
 */
function toSessionStartError(err: unknown, connectionId: string, login: LoginTarget): GatewayError {
  const refused = describeLoginError(err, login);
  if (refused) return new GatewayError("target_unavailable", refused.message);
  const described = toTargetError(err, connectionId);
  if (described instanceof GatewayError) return described;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  // A connection exception's words (class 08: the protocol or the link, as "bind message supplies 1 parameters,
  // but prepared statement requires 0") quote no data and say what went wrong; other classes' are not repeated.
  const said =
    typeof code === "string" && code.startsWith("08") && typeof message === "string" ? `: ${message}` : "";
  return new GatewayError(
    "target_unavailable",
    `${login.host} refused the gateway's session for user ${login.username}${typeof code === "string" ? ` (${code})` : ""}${said}.`,
  );
}

async function resolveTables(pool: Pick<Pool, "tableNames">, sql: Sql, oids: number[]) {
  const unknown = [...new Set(oids.filter((o) => o > 0 && !pool.tableNames.has(o)))];
  if (unknown.length > 0) {
    const rows = await sql.unsafe(TABLE_NAMES_QUERY, [unknown as never]);
    for (const oid of unknown) pool.tableNames.set(oid, null);
    for (const r of rows as unknown as { oid: number; schema: string; name: string }[])
      pool.tableNames.set(r.oid, `${r.schema}.${r.name}`);
  }
}

interface RawColumn {
  name: string;
  type: number;
  table: number;
  /** attribute number in the table (0 for an expression) */
  number?: number;
}

function attnumsOf(raw: RawColumn[] | undefined): number[] {
  return (raw ?? []).map((c) => (c.table > 0 && (c.number ?? 0) > 0 ? (c.number as number) : 0));
}

function columnsOf(raw: RawColumn[] | undefined, pool: Pick<Pool, "tableNames">): ResultColumn[] {
  return (raw ?? []).map((c) => {
    const table = c.table ? pool.tableNames.get(c.table) : null;
    return { name: c.name, type: typeName(c.type), oid: c.type, ...(table && { table }) };
  });
}

/**
 * Why the driver cannot run a statement of this parse-node kind, or undefined when it can. COPY is one: TO
 * STDOUT and FROM STDIN switch the session to PostgreSQL's copy protocol, whose data are not rows the gateway
 * can mask (and FROM STDIN waits for data no caller can send); COPY to or from a file on the server moves data
 * no result shows, past masking too.
 */
export function unsupportedStatement(kind: string): string | undefined {
  if (kind === "CopyStmt")
    return "COPY is not supported here: COPY ... TO STDOUT and FROM STDIN run only as a native client's simple query (psql's \\copy, drivers' copy APIs); otherwise run the SELECT instead, its rows are masked, and INSERT rows to load them";
  return undefined;
}

export interface RunOptions {
  rowLimit: number;
  statementTimeoutMs?: number;
  /**
   * Statements read through a cursor, batch by batch (those that can return more rows than the limit); the
   * others run plainly, in one round trip, and a result longer than the limit is cut after it arrives. A native
   * client's read in its read-only scope never takes a cursor (its end costs a round trip): its rows past the
   * limit are read and dropped, or its rows stream (PinnedSession.readInOneTrip, row-stream.ts readRows).
   */
  throughCursor: (index: number) => boolean;
  /** the connection's updatedAt, when the caller has it (saves a store read per run) */
  version?: string;
  /**
   * Run the statements on a session whose transactions are read-only (they were classified as reads): the
   * target then refuses, with SQLSTATE 25006, whatever in them writes.
   */
  readOnly?: boolean;
  /** called with a function that cancels the statement in flight */
  onCancellable?: (cancel: () => void) => void;
  /**
   * Where a streamed statement's rows go, batch by batch as they arrive, instead of into its result (whose
   * `rows` is then empty; `rowCount` still counts them). Asked once per statement when its columns are known;
   * undefined keeps the rows in the result. Used only when the columns' tables are already known (a catalog
   * lookup cannot run on the session while its cursor is open).
   */
  rowSink?: (index: number, columns: ResultColumn[]) => ((rows: unknown[][]) => void) | undefined;
  /**
   * Called before each statement runs, with a query on the run's own session (so what earlier statements of the
   * input created is visible): lineage explains the statement there. An error it throws ends the run there. It
   * may return a NameCheck when `route.checksNames`: sent just before the read in the same message; when the
   * check fails the read does not run, and this is called again (`namesDiffered`) before the read is sent alone.
   */
  beforeStatement?: (
    index: number,
    query: (text: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>,
    route: StatementRoute,
  ) => Promise<NameCheck | undefined> | Promise<void>;
  /**
   * Run on this client's own target session (a native client, server/listeners) instead of a pooled one: it is
   * not cleaned between runs, so the client's transactions and settings span its inputs.
   */
  pinned?: PinnedSession;
  /**
   * The parser's kind of each statement (SelectStmt, TransactionStmt...): COPY is refused before it is sent, and
   * on a pinned session `readOnly` scopes statements by kind.
   */
  statementKinds?: readonly string[];
  /** values for $1, $2... of a single statement, as text (the target infers their types) */
  parameters?: readonly (string | null)[];
  /**
   * A native client's read that may stream (server/targets/row-stream.ts): a read in its read-only scope on the
   * pinned session whose result passes `keep` rows is handed over as it arrives, its columns first (`start`,
   * their tables named), then its rows batch by batch (`take`), the session's socket paused while the caller
   * lags; its result is then `streamed` and no row limit applies to it.
   */
  stream?: ResultStream;
}

/** How a statement is about to be sent, as RunOptions.beforeStatement is told. */
export interface StatementRoute {
  /** in one message with its read-only scope (readInOneTrip), which can carry a NameCheck just before it */
  checksNames: boolean;
  /** a NameCheck sent with it just now failed: the session resolves names otherwise, and it did not run */
  namesDiffered?: boolean;
}

/**
 * A statement sent just before a read, in the same Query, that fails (and so stops the message before the read)
 * when the session does not resolve names as expected (server/targets/name-resolution.ts), and how its failure is
 * told from any other.
 */
export interface NameCheck {
  statement: string;
  isRefusal(err: unknown): boolean;
}

/** Where a streamed result goes (RunOptions.stream). */
export interface ResultStream {
  keep: number;
  start(index: number, columns: ResultColumn[]): Promise<void>;
  take(rows: unknown[][]): Promise<void>;
}

/**
 * Statements that run as they are on a pinned session even when `readOnly` is asked: they control the client's
 * transaction or session (a read-only wrapper around them would undo what they are for) and call no function.
 */
const SESSION_CONTROL_KINDS = new Set([
  "TransactionStmt",
  "VariableSetStmt",
  "PrepareStmt",
  "DeallocateStmt",
  "DeclareCursorStmt",
  "ClosePortalStmt",
]);

/**
 * One target session kept for one native client: its own connection (not the pool's), never reconnected behind
 * the client's back. When it closes, `closed` is set and `onClosed` called (the client's transaction, if any, is
 * gone and the client must be told). `close()` ends the connection, which rolls back whatever the client left
 * open and drops its settings, temporary tables and locks. Not responsible for deciding what may run on it.
 */
export class PinnedSession {
  closed = false;
  /** SQLSTATEs of the notices while a read-only opening of its own runs (beginReadOnly) */
  private notices: string[] = [];
  private collectingNotices = false;
  readonly tableNames = new Map<number, string | null>();
  /** the settings the target reported (ParameterStatus): server_version, TimeZone, DateStyle... */
  readonly parameters = new Map<string, string>();
  /** the transaction status the target reported last (ReadyForQuery), read before postgres.js reads it */
  readonly tap = new ReadyStatusTap();
  /**
   * The last time it was asked or checked, this session resolved names otherwise than the pool's (the pipeline's
   * memory: its next inputs are asked first, not checked, until it answers alike again).
   */
  resolvesNamesOtherwise = false;
  /** the end of the last read-only scope, sent and not waited for (endReadOnly, readInOneTrip) */
  private ending: Promise<unknown> | undefined;
  /** the session's socket to the target (paused while a streamed result waits for its client) */
  socket: net.Socket | undefined;
  /** where a notification the target sends this session goes (its client's LISTEN ran here) */
  onNotification: ((channel: string, payload: string) => void) | undefined;
  sql!: Sql;

  constructor(readonly connectionId: string) {}

  noteNotice(code: string | undefined) {
    if (code && this.collectingNotices) this.notices.push(code);
  }

  takeNotices(): string[] {
    const taken = this.notices;
    this.notices = [];
    return taken;
  }

  async close() {
    this.closed = true;
    await this.sql.end({ timeout: 0 }).catch(() => {});
  }

  /** Opens the implicit transaction of a multi-statement simple Query (a native client outside a transaction). */
  async beginImplicit(): Promise<void> {
    try {
      await this.sql.unsafe("begin");
    } catch (err) {
      throw toTargetError(err, this.connectionId, true);
    }
  }

  /**
   * Ends it: COMMIT when every statement ran, else ROLLBACK (nothing of it is kept). A COMMIT the target refuses
   * (a deferred constraint) is rolled back by the target; its SQLSTATE only, since its message can quote values.
   */
  async endImplicit(commit: boolean): Promise<{ ok: true } | { ok: false; sqlState?: string }> {
    if (this.closed) return { ok: false };
    try {
      await this.sql.unsafe(commit ? "commit" : "rollback");
      return { ok: true };
    } catch (err) {
      await this.sql.unsafe("rollback").catch(() => {});
      return {
        ok: false,
        ...(typeof (err as { code?: unknown }).code === "string" && {
          sqlState: (err as { code: string }).code,
        }),
      };
    }
  }

  /**
   * Parse and Describe of a statement on this session, without executing it (a native client's Describe of a
   * prepared statement): its parameters' and result columns' types, or the target's error.
   */
  async describe(
    text: string,
  ): Promise<{ parameterTypes: number[]; columns: { name: string; oid: number }[] }> {
    try {
      const described = await this.sql.unsafe(text).describe();
      return {
        parameterTypes: [...(described.types ?? [])],
        columns: (described.columns ?? []).map((c) => ({ name: c.name, oid: c.type })),
      };
    } catch (err) {
      throw toTargetError(err, this.connectionId, true);
    }
  }

  /**
   * Starts a COPY ... FROM STDIN on this session (in the client's transaction, if one is open): resolves when the
   * target waits for the data, or throws its error (TargetError). See copy-in.ts.
   */
  async copyIn(text: string): Promise<TargetCopyIn> {
    if (this.closed) throw new GatewayError("target_unavailable", "the session on the target was closed");
    // A COPY starts as a simple Query (postgres.js's copy stream has no other way, and the extended protocol's
    // COPY would need a Sync after CopyDone that it never sends): the target must read the text as the
    // classifier did, or a COPY could carry a statement nobody decided (readsTextAsClassified).
    if (!this.readsTextAsClassified())
      throw new GatewayError(
        "bad_request",
        "COPY FROM STDIN is refused on this session: the target reads statement text with standard_conforming_strings off or a client_encoding other than UTF8, under which its text could hold more statements than the gateway decided",
      );
    return startCopyIn(this.sql, text, (err) => toTargetError(err, this.connectionId, true));
  }

  /**
   * Opens a read-only scope for one statement, whatever the client's transaction state, in one message (one
   * round trip): a savepoint made read-only with SET LOCAL, inside a transaction of the gateway's own (ended after
   * the statement) or, when the client has one open (BEGIN then warns 25001 and changes nothing), inside the
   * client's, where ROLLBACK TO undoes it. BEGIN takes no options: inside the client's transaction `BEGIN READ
   * ONLY` would still make the rest of that transaction read-only. Which scope it is is read from this message's
   * own notices, before the statement can add any. A read-only subtransaction cannot be made read-write again
   * (PostgreSQL refuses it inside one). In a failed transaction BEGIN fails with 25P02, as the statement would
   * have, and nothing else runs. A `check` goes last in the same message (as in readInOneTrip): when it fails, the
   * scope is undone and "names differ" returned.
   */
  async beginReadOnly(check?: NameCheck): Promise<"transaction" | "savepoint" | "names differ"> {
    this.takeNotices();
    this.collectingNotices = true;
    try {
      await this.sql
        .unsafe(
          `begin; savepoint portcullis_read; set local transaction_read_only = on${check ? `;\n${check.statement}` : ""}`,
        )
        .simple();
      return this.takeNotices().includes("25001") ? "savepoint" : "transaction";
    } catch (err) {
      // A check that failed (see readInOneTrip): the scope it failed in is undone, and the read is not sent.
      if (!check?.isRefusal(err)) throw err;
      await this.endReadOnly(
        this.takeNotices().includes("25001") ? "savepoint" : "transaction",
        READ_ONLY_REFUSAL,
      ).catch(() => {});
      return "names differ";
    } finally {
      this.collectingNotices = false;
    }
  }

  /**
   * Does the target split a Query's text into statements as the classifier does? The classifier (libpg-query)
   * reads every text with standard_conforming_strings on, in UTF-8 (what postgres.js sends). Under other values,
   * which the target reports whenever they change (ParameterStatus), one text the classifier read as a single
   * statement can be several for the target (`\'` read as a quote; a GBK character swallowing a backslash), and in
   * a Query of several statements a smuggled COMMIT would end the read-only scope. The settings a Query is read
   * with are those in force when it arrives: the whole text is parsed before any of it runs.
   */
  readsTextAsClassified(): boolean {
    return (
      this.parameters.get("standard_conforming_strings") === "on" &&
      this.parameters.get("client_encoding") === "UTF8"
    );
  }

  /**
   * One read in a read-only scope in ONE message to the target: a simple-protocol Query whose first statements
   * open the scope and whose last is the read. PostgreSQL runs a Query's statements in order and stops at the first
   * error (a statement_timeout or a cancel is an error of the statement it interrupts), so the read runs only after
   * its scope took effect. Which opening is chosen by the status the target itself reported for this session
   * (ReadyStatusTap), read once the previous scope's end is answered, never from notices (a statement can raise any
   * SQLSTATE):
   * - idle: `SET LOCAL transaction_read_only = on` then the read. Two statements in one Query are one implicit
   *   transaction block, which PostgreSQL commits (or rolls back, after an error) at the end of the message: no
   *   end to send. Inside it, read-write mode cannot come back: PostgreSQL refuses `transaction_read_only = off`
   *   once the transaction has taken a snapshot, which the read does before it calls anything.
   * - in a transaction (or its status unknown): a read-only savepoint, as beginReadOnly makes, ended after the
   *   read as endReadOnly does. Sent to an idle session, SAVEPOINT fails (25P01) and nothing runs.
   * Undefined, with nothing sent, when the target would not split the text as the classifier did
   * (readsTextAsClassified): the caller then runs it with the extended protocol, whose Parse refuses a text of
   * several statements. Rows are kept up to `rowLimit`; past it they are read and dropped (the simple protocol
   * has no cursor), and `truncated` says so. The read is the text the caller classified, as it is: the opening ends with `;` and a
   * line break, so the read is scanned from a clean start, and nothing follows it.
   * A `check` goes between the opening and the read (ended the same way): when it fails, the target stops there,
   * before it parses the read against the catalog, the scope is undone (the client's transaction as it was), and
   * "names differ" is returned: nothing of the read ran.
   */
  async readInOneTrip(
    text: string,
    rowLimit: number,
    onCancellable?: (cancel: () => void) => void,
    stream?: RawStream,
    check?: NameCheck,
  ): Promise<
    | "names differ"
    | {
        columns: RawColumn[];
        rows: unknown[][];
        command: string;
        count: number;
        truncated: boolean;
        streamed?: boolean;
      }
    | undefined
  > {
    await this.ending;
    if (!this.readsTextAsClassified()) return undefined;
    const idle = this.tap.status === "I";
    const opening = idle
      ? "set local transaction_read_only = on;\n"
      : "savepoint portcullis_read; set local transaction_read_only = on;\n";
    const query = this.sql
      .unsafe(opening + (check ? `${check.statement};\n` : "") + text)
      .simple()
      .values();
    onCancellable?.(() => query.cancel());
    let answered: unknown;
    let rows: unknown[][];
    let truncated: boolean;
    let streamed: number | undefined;
    try {
      ({ answered, rows, truncated, streamed } = await readRows(
        query,
        rowLimit,
        stream && {
          rows: {
            keep: stream.keep,
            take: async (rows, first) => {
              // The read's own columns (its RowDescription came before its rows).
              if (first) await stream.start(statementColumns(query));
              await stream.take(rows);
            },
          },
          control: this.streamControl(() => query.cancel()),
        },
      ));
    } catch (err) {
      if (check?.isRefusal(err)) {
        // The check failed in the scope's own transaction or savepoint: undone as after a refused write.
        if (!idle) await this.endReadOnly("savepoint", READ_ONLY_REFUSAL).catch(() => {});
        return "names differ";
      }
      const error = toTargetError(err, this.connectionId, true);
      // A streamed result stopped by the gateway (its client went away, the recorder refused): the read changed
      // nothing, so its scope is undone and the client's transaction is as it was (a 25006's way out).
      const stopped = err instanceof StreamStopped;
      if (!idle) await this.endReadOnly("savepoint", stopped ? READ_ONLY_REFUSAL : error).catch(() => {});
      throw err;
    }
    if (!idle) await this.endReadOnly("savepoint", undefined);
    // one answer per statement of the Query (postgres.js gives one only when the opening's merged into it)
    const answers = (Array.isArray(answered) && !("command" in answered)
      ? answered
      : [answered]) as unknown as {
      command?: string | null;
      count?: number | null;
      columns?: RawColumn[] | null;
    }[];
    const last = answers[answers.length - 1] ?? {};
    return {
      columns: last.columns ?? [],
      rows,
      command: last.command ?? "OK",
      count: streamed ?? (truncated ? rows.length : (last.count ?? rows.length)),
      truncated,
      ...(streamed !== undefined && { streamed: true }),
    };
  }

  /** How a streamed result on this session pauses, resumes and cancels its query (row-stream.ts). */
  streamControl(cancel: () => void) {
    return {
      pause: () => this.socket?.pause(),
      resume: () => this.socket?.resume(),
      cancel,
    };
  }

  /**
   * Closes the scope. A read-only transaction ends (ROLLBACK after an error, as autocommit would); a savepoint
   * is rolled back to and released after success, or after the refusal of a write (25006: the input is decided
   * again as a write, in the client's transaction as it was). After another error the client's transaction stays
   * failed, as PostgreSQL would leave it.
   * After success the end is sent and not waited for (decision 0020): this session runs one query at a time in
   * order, so whatever the client sends next reaches the target after it; when it fails the session is gone
   * (closed, so nothing more runs on it) or the client's transaction stays read-only (fail closed).
   */
  async endReadOnly(scope: "transaction" | "savepoint", error: Error | undefined) {
    const end =
      scope === "transaction"
        ? this.sql.unsafe(error ? "rollback" : "commit")
        : !error || (error instanceof TargetError && error.sqlState === "25006")
          ? this.sql
              .unsafe("rollback to savepoint portcullis_read; release savepoint portcullis_read")
              .simple()
          : undefined;
    if (!end) return;
    if (error) {
      await end;
      return;
    }
    this.ending = end.catch(() => {});
  }
}

/** A streamed result as the session hands it over: raw columns first (RunOptions.stream, streamOf). */
interface RawStream {
  keep: number;
  start(columns: RawColumn[]): Promise<void>;
  take(rows: unknown[][]): Promise<void>;
}

/** The columns postgres.js read from the RowDescription of the statement a query runs now. */
function statementColumns(query: unknown): RawColumn[] {
  return (query as { statement?: { columns?: RawColumn[] | null } }).statement?.columns ?? [];
}

/**
 * RunOptions.stream for statement `index` on a pinned session. The columns' tables are named through the
 * connection's pool: the session itself is busy sending the rows (table OIDs name the same table from any
 * session of the database, a temporary one included).
 */
function streamOf(options: RunOptions, index: number, session: PinnedSession): RawStream | undefined {
  const { stream } = options;
  if (!stream) return undefined;
  return {
    keep: stream.keep,
    start: async (raw) => {
      const oids = raw.map((c) => c.table);
      if (oids.some((o) => o > 0 && !session.tableNames.has(o))) {
        const pool = await poolFor(session.connectionId, options.version);
        await resolveTables(session, pool.sql, oids);
      }
      await stream.start(index, columnsOf(raw, session));
    },
    take: (rows) => stream.take(rows),
  };
}

/** What endReadOnly undoes a savepoint after: the read changed nothing. */
const READ_ONLY_REFUSAL = new TargetError("read-only scope undone", "25006", undefined);

/**
 * A native client's parameters are text already, written for PostgreSQL's own input functions. postgres.js
 * would serialize them again by the type the target gives them (a boolean's serializer turns the string "true"
 * into 'f', bytea's encodes "\\x0708" as its characters, jsonb's quotes the document): on this session a string
 * goes as it is; other values (the gateway's own look-ups) keep postgres.js's serializers, including the array
 * ones it adds later.
 */
function keepTextParameters(sql: Sql) {
  const options = sql.options as unknown as { serializers: Record<number, (x: unknown) => unknown> };
  options.serializers = new Proxy(options.serializers, {
    get(target, type) {
      const serialize = Reflect.get(target, type) as ((x: unknown) => unknown) | undefined;
      return serialize && ((x: unknown) => (typeof x === "string" ? x : serialize(x)));
    },
  });
}

/** A target session of its own for one native client (see PinnedSession); connected before it is returned. */
export async function openPinnedSession(connectionId: string, onClosed: () => void): Promise<PinnedSession> {
  const { row, secret } = await openConnectionSecret(connectionId);
  if (row.kind !== "postgres")
    throw new GatewayError("bad_request", `${row.name} is an SSH connection, not a database`);
  const session = new PinnedSession(connectionId);
  session.sql = connect(row, secret, {
    pinned: {
      onnotice: (notice) => session.noteNotice(notice.code),
      onnotify: (channel, payload) => session.onNotification?.(channel, payload),
      onparameter: (name, value) => session.parameters.set(name, value),
      onclose: () => {
        if (session.closed) return;
        session.closed = true;
        onClosed();
      },
      tap: session.tap,
      onSocket: (socket) => {
        session.socket = socket;
      },
    },
  });
  keepTextParameters(session.sql);
  try {
    await session.sql.unsafe("select 1");
  } catch (err) {
    session.closed = true;
    void session.sql.end({ timeout: 0 }).catch(() => {});
    throw toTargetError(err, connectionId, true);
  }
  return session;
}

type LookupQuery = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * The gateway's own look-ups embed the caller's statement (`explain ... <statement>`, `prepare ... as
 * <statement>`): each goes as one Parse, never as a simple Query, so the target cannot run a second statement it
 * reads in the text (see runOn's `oneStatement`).
 */
const ONE_STATEMENT = { simple: false } as postgres.UnsafeQueryOptions;

function lookupOn(sql: Sql): LookupQuery {
  return async (text, params) =>
    (await sql.unsafe(text, (params ?? []) as never[], ONE_STATEMENT)) as unknown as Record<
      string,
      unknown
    >[];
}

/**
 * The gateway's own look-ups (lineage's EXPLAIN) on a native client's session: inside the client's transaction a
 * failing one must not abort it, so each runs under a savepoint, rolled back when it fails. Outside a
 * transaction it runs as it is: its failure aborts nothing. The session known idle (the target's last
 * ReadyForQuery said so, and nothing the gateway sends unawaited can open a transaction) skips the savepoint
 * outright; otherwise SAVEPOINT refused with 25P01 says it was idle after all (an unawaited end got there first).
 */
function lookupInSavepoint(sql: Sql, isIdle: () => boolean): LookupQuery {
  const plain = lookupOn(sql);
  return async (text, params) => {
    if (isIdle()) return plain(text, params);
    try {
      await sql.unsafe("savepoint portcullis_lookup");
    } catch (err) {
      if ((err as { code?: unknown }).code === "25P01") return plain(text, params);
      throw err;
    }
    try {
      const rows = await plain(text, params);
      await sql.unsafe("release savepoint portcullis_lookup");
      return rows;
    } catch (err) {
      await sql
        .unsafe("rollback to savepoint portcullis_lookup; release savepoint portcullis_lookup")
        .simple();
      throw err;
    }
  };
}

/** The statements in order on one session, stopping at the first error (see runStatements). */
async function runOn(
  sql: Sql,
  pool: Pick<Pool, "tableNames">,
  connectionId: string,
  statements: string[],
  options: RunOptions,
  readOnlyScope?: (index: number) => boolean,
): Promise<{ results: StatementResult[]; error?: Error }> {
  const results: StatementResult[] = [];
  let cancelled = false;
  // A text goes as one Parse (the extended protocol), which the target refuses when it reads the text as several
  // statements: postgres.js would send a text without parameters as a simple Query, where a COMMIT the target
  // reads in it (under its own standard_conforming_strings or client_encoding, see readsTextAsClassified) would end
  // the read-only scope or transaction and run what follows outside it.
  const oneStatement = ONE_STATEMENT;
  for (const [index, text] of statements.entries()) {
    if (cancelled) break;
    if (options.pinned?.closed) {
      // postgres.js would reconnect: the rest must not run on a new session outside the client's transaction
      return {
        results,
        error: new GatewayError("target_unavailable", "the session on the target was closed"),
      };
    }
    let scope: "transaction" | "savepoint" | undefined;
    const unsupported = unsupportedStatement(options.statementKinds?.[index] ?? "");
    if (unsupported) {
      // Refused before it is sent (the pipeline refuses it earlier still): postgres.js answers COPY with a stream.
      return { results, error: new TargetError(unsupported, "0A000", undefined) };
    }
    try {
      const lookup = options.pinned
        ? lookupInSavepoint(sql, () => options.pinned?.tap.status === "I")
        : lookupOn(sql);
      const prepare = async (route: StatementRoute) =>
        (await options.beforeStatement?.(index, lookup, route)) || undefined;
      const scoped = readOnlyScope?.(index) === true;
      const pinned = options.pinned;
      // A native client's read without parameters: its scope and the read in one message (readInOneTrip).
      const oneTrip = scoped && pinned !== undefined && options.parameters === undefined;
      const readOnce = (check: NameCheck | undefined) =>
        pinned?.readInOneTrip(
          text,
          options.rowLimit,
          (cancel) =>
            options.onCancellable?.(() => {
              cancelled = true;
              cancel();
            }),
          streamOf(options, index, pinned),
          check,
        );
      // A pinned read's scope is opened in the read's own message or in one just before it: either carries a
      // check of how the session resolves names. When the check fails, nothing of the read ran: it is prepared
      // anew (explained where it runs) and sent without one.
      const prepareAgain = async (namesDiffered: boolean) => {
        if (await prepare({ checksNames: false, ...(namesDiffered && { namesDiffered }) }))
          throw new Error("a name check was returned for a read that cannot carry one");
      };
      let check = await prepare({ checksNames: scoped && pinned !== undefined });
      if (check && !(scoped && pinned)) {
        check = undefined;
        await prepareAgain(false);
      }
      let read = oneTrip ? await readOnce(check) : undefined;
      // readInOneTrip sent the check, unless it sent nothing (the text not read as classified: begun below).
      if (read !== undefined) check = undefined;
      if (read === "names differ") {
        await prepareAgain(true);
        read = await readOnce(undefined);
        if (read === "names differ") throw new Error("a read sent without a name check was refused by one");
      }
      if (read) {
        await resolveTables(
          pool,
          sql,
          read.columns.map((c) => c.table),
        );
        results.push({
          command: read.command,
          columns: columnsOf(read.columns, pool),
          rows: read.rows,
          rowCount: read.count,
          truncated: read.truncated,
          attnums: attnumsOf(read.columns),
          ...(read.streamed && { streamed: true }),
        });
        continue;
      }
      if (scoped && pinned) {
        let opened = await pinned.beginReadOnly(check);
        if (opened === "names differ") {
          await prepareAgain(true);
          opened = await pinned.beginReadOnly();
          if (opened === "names differ")
            throw new Error("a scope opened without a name check was refused by one");
        }
        scope = opened;
      }
      if (scope) {
        // A pinned read with parameters, in its scope: one Execute and its Sync, without a cursor (whose end
        // costs a round trip more); rows past the limit are read and dropped, unless the read streams (a native
        // client's Execute, row-stream.ts).
        const query = sql.unsafe(text, (options.parameters ?? []) as never[], oneStatement).values();
        options.onCancellable?.(() => {
          cancelled = true;
          query.cancel();
        });
        const pinned = options.pinned;
        const raw = pinned && streamOf(options, index, pinned);
        const { answered, rows, truncated, streamed } = await readRows(
          query,
          options.rowLimit,
          raw &&
            pinned && {
              rows: {
                keep: raw.keep,
                take: async (rows, first) => {
                  if (first) await raw.start(statementColumns(query));
                  await raw.take(rows);
                },
              },
              control: pinned.streamControl(() => query.cancel()),
            },
        );
        const result = answered as { command?: string; count?: number; columns?: RawColumn[] };
        await resolveTables(
          pool,
          sql,
          (result.columns ?? []).map((c) => c.table),
        );
        results.push({
          command: result.command ?? "OK",
          columns: columnsOf(result.columns, pool),
          rows,
          rowCount: streamed ?? (truncated ? rows.length : (result.count ?? rows.length)),
          truncated,
          attnums: attnumsOf(result.columns),
          ...(streamed !== undefined && { streamed: true }),
        });
      } else if (options.throughCursor(index)) {
        let rows: unknown[][] = [];
        let rowCount = 0;
        let raw: RawColumn[] | undefined;
        let sink: ((rows: unknown[][]) => void) | undefined;
        let truncated = false;
        const query = sql.unsafe(text, (options.parameters ?? []) as never[]).values();
        options.onCancellable?.(() => {
          cancelled = true;
          query.cancel();
        });
        // The last batch carries the command tag (SELECT, SHOW, EXPLAIN...); a truncated read ends before it.
        let command = "SELECT";
        for await (const got of query.cursor(Math.min(CURSOR_BATCH, options.rowLimit + 1))) {
          let batch = got as unknown as unknown[][];
          command = (got as unknown as { command?: string }).command ?? command;
          if (raw === undefined) {
            raw = (got as unknown as { columns?: RawColumn[] }).columns ?? [];
            const known = raw.every((c) => !(c.table > 0) || pool.tableNames.has(c.table));
            if (known) sink = options.rowSink?.(index, columnsOf(raw, pool));
          }
          if (rowCount + batch.length > options.rowLimit) {
            batch = batch.slice(0, options.rowLimit - rowCount);
            truncated = true;
          }
          rowCount += batch.length;
          if (sink) sink(batch);
          else if (rows.length === 0) rows = [...batch];
          else for (const r of batch) rows.push(r);
          if (truncated) break;
        }
        if (raw && !sink)
          await resolveTables(
            pool,
            sql,
            raw.map((c) => c.table),
          );
        results.push({
          command,
          columns: columnsOf(raw, pool),
          rows,
          rowCount,
          truncated,
          attnums: attnumsOf(raw),
        });
      } else {
        const query = sql.unsafe(text, (options.parameters ?? []) as never[], oneStatement).values();
        options.onCancellable?.(() => {
          cancelled = true;
          query.cancel();
        });
        const result = (await query) as unknown as unknown[][] & {
          command?: string;
          count?: number;
          columns?: RawColumn[];
        };
        if (result.columns)
          await resolveTables(
            pool,
            sql,
            result.columns.map((c) => c.table),
          );
        const truncated = result.length > options.rowLimit;
        results.push({
          command: result.command ?? "OK",
          columns: columnsOf(result.columns, pool),
          rows: truncated ? result.slice(0, options.rowLimit) : [...result],
          rowCount: result.count ?? result.length,
          truncated,
          attnums: attnumsOf(result.columns),
        });
      }
      if (scope) await options.pinned?.endReadOnly(scope, undefined);
    } catch (err) {
      const error = toTargetError(err, connectionId, options.pinned !== undefined);
      // A streamed read the gateway stopped changed nothing: its scope is undone, the client's transaction kept.
      const undo = err instanceof StreamStopped ? READ_ONLY_REFUSAL : error;
      if (scope) await options.pinned?.endReadOnly(scope, undo).catch(() => {});
      return { results, error };
    }
  }
  return { results };
}

/**
 * Runs on a native client's pinned session: nothing is reset afterwards. Reads asked to run read-only run each
 * in a read-only scope (PinnedSession.beginReadOnly), except statements that control the client's transaction
 * or settings; a statement of unknown kind is scoped.
 */
async function runPinned(
  pinned: PinnedSession,
  statements: string[],
  options: RunOptions,
): Promise<{ results: StatementResult[]; error?: Error }> {
  if (pinned.closed) {
    throw new GatewayError("target_unavailable", "the session on the target was closed");
  }
  const readOnlyScope = (index: number) =>
    options.readOnly === true && !SESSION_CONTROL_KINDS.has(options.statementKinds?.[index] ?? "");
  return runOn(pinned.sql, pinned, pinned.connectionId, statements, options, readOnlyScope);
}

/**
 * Runs the statements in order on one reserved session of the pool (so BEGIN ... COMMIT spans them), or on
 * the client's pinned session, streaming rows up to the limit. Stops at the first error, returning the results
 * before it and the error.
 */
export async function runStatements(
  connectionId: string,
  statements: string[],
  options: RunOptions,
): Promise<{ results: StatementResult[]; error?: Error }> {
  const { pinned } = options;
  if (pinned) return runPinned(pinned, statements, options);
  const pool = await poolFor(connectionId, options.version);
  let reserved: Reserved;
  try {
    reserved = await (options.readOnly ? pool.reads : pool.sql).reserve();
  } catch (err) {
    throw toSessionStartError(err, connectionId, pool.login);
  }
  try {
    if (
      options.statementTimeoutMs !== undefined &&
      options.statementTimeoutMs !== DEFAULT_STATEMENT_TIMEOUT_MS
    ) {
      await reserved.unsafe(`set statement_timeout = ${Math.max(0, Math.floor(options.statementTimeoutMs))}`);
    }
    return await runOn(reserved as unknown as Sql, pool, connectionId, statements, options);
  } finally {
    // Off the caller's path: the reply does not wait for the clean-up, the next use of the session does.
    void returnSession(reserved, pool);
  }
}

type Reserved = Awaited<ReturnType<Sql["reserve"]>>;

/**
 * Everything a caller can leave on a session, undone before the session serves anyone else: an open or failed
 * transaction (ROLLBACK), then DISCARD ALL: WITH HOLD cursors, prepared statements, session advisory locks,
 * LISTEN, temporary tables, sequences' currval, every setting (back to the startup packet's values, so the
 * read-only pool stays read-only), SET ROLE and SET SESSION AUTHORIZATION. The statement timeout is lifted
 * first so that one the caller set too short cannot cut the clean-up (DISCARD ALL restores it). DISCARD ALL
 * refuses to run inside a transaction block, which a message of several statements is, so these are three
 * simple-query messages written together: one round trip. Nothing of postgres.js depends on what DISCARD ALL
 * drops: it prepares no statements (`prepare: false`), reads cursors through the unnamed portal, and its
 * startup parameters are what RESET returns to.
 */
const SESSION_RESET = ["rollback", "set statement_timeout = 0", "discard all"];

/**
 * Far longer than a clean-up takes (well under a millisecond; seconds only to drop thousands of temporary
 * tables): a session that needs more is stuck, and is not waited for.
 */
const RESET_TIMEOUT_MS = 30_000;

/**
 * The last resort for a session that could not be cleaned twice: the target closes it as soon as it is idle
 * (PostgreSQL 14 and later), and it is never given back meanwhile; postgres.js connects anew on the next use.
 * (Not pg_terminate_backend: its error arrives while a query is open, and postgres.js 3.4 then fails the next
 * connection's first query with it.)
 */
const SESSION_END = ["rollback", "set idle_session_timeout = 1"];

/**
 * True when the driver lost the session (closed, broken, or the server ended it): nothing is left to clean.
 * Any other failure (a SQL error, or the driver refusing to send, e.g. a session stuck in COPY) leaves it open.
 */
function isSessionGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith("08") || code.startsWith("57P");
  return code.startsWith("CONNECTION_") || /^E[A-Z]+$/.test(code);
}

class SessionStuck extends Error {}

/**
 * Writes the messages together and waits for every answer, throwing the first error; SessionStuck when they
 * are not all answered in time (a session stuck in COPY never answers, nor one waiting on a lock).
 */
async function runInOneTrip(session: Reserved, texts: string[], timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SessionStuck()), timeoutMs);
  });
  try {
    const answers = await Promise.race([
      Promise.allSettled(texts.map((text) => session.unsafe(text).simple())),
      stuck,
    ]);
    const failed = answers.find((a) => a.status === "rejected");
    if (failed) throw failed.reason;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Cleans a session and gives it back to its pool, or makes sure it never serves anyone again: a session whose
 * clean-up failed twice is ended; when even that fails, or the session is stuck, its whole pool is closed (the
 * uses in flight on it fail, the next ones open a new pool) rather than wait forever for a session that can never
 * come back. Exported for the failure-path tests.
 */
export async function returnSession(
  session: Reserved,
  pool: Pick<Pool, "sql" | "reads"> | undefined,
  reset: string[] = SESSION_RESET,
  timeoutMs = RESET_TIMEOUT_MS,
): Promise<"clean" | "ended" | "retired"> {
  let stuck = false;
  for (let attempt = 0; attempt < 2 && !stuck; attempt++) {
    try {
      await runInOneTrip(session, reset, timeoutMs);
      session.release();
      return "clean";
    } catch (err) {
      // A lost session is already out of the pool (postgres.js connects anew on the next use).
      if (isSessionGone(err)) return "ended";
      stuck = err instanceof SessionStuck;
    }
  }
  console.warn("[portcullis] a target session could not be cleaned after use; it is closed instead");
  if (!stuck) {
    try {
      await runInOneTrip(session, SESSION_END, timeoutMs);
      return "ended";
    } catch (err) {
      if (isSessionGone(err)) return "ended";
    }
  }
  for (const [id, cached] of pools) if (cached === pool) pools.delete(id);
  void pool?.sql.end({ timeout: 0 });
  void pool?.reads.end({ timeout: 0 });
  return "retired";
}

/**
 * Runs a catalog query the gateway itself issues (completion, the classifier's lookups): never user input, which
 * comes only as bound parameters.
 */
export async function queryCatalog(
  connectionId: string,
  text: string,
  parameters: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const pool = await poolFor(connectionId);
  const query = () => pool.sql.unsafe(text, parameters as never[]);
  try {
    try {
      return (await query()) as unknown as Record<string, unknown>[];
    } catch (err) {
      // A broken session is out of the pool (postgres.js connects anew): a read of the catalog is asked once
      // more before it fails the caller's decision. Anything else the target said stands.
      if (!isSessionGone(err)) throw err;
      return (await query()) as unknown as Record<string, unknown>[];
    }
  } catch (err) {
    // The gateway's own query: whatever fails is the target's or the connection's settings' fault (502).
    const failure = toTargetError(err, connectionId);
    if (failure instanceof GatewayError) throw failure;
    throw toSessionStartError(err, connectionId, pool.login);
  }
}

/**
 * A query on a read-only session of the connection's pool, for the gateway's own look-ups about a statement
 * (EXPLAIN, which never executes it, and catalog queries): never user input run as such.
 */
export async function readOnlyQuery(
  connectionId: string,
  version?: string,
): Promise<(text: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>> {
  const pool = await poolFor(connectionId, version);
  return async (text, params) => {
    try {
      return (await pool.reads.unsafe(text, (params ?? []) as never[], ONE_STATEMENT)) as unknown as Record<
        string,
        unknown
      >[];
    } catch (err) {
      throw toTargetError(err, connectionId);
    }
  };
}

export async function closeAllPools() {
  await Promise.all(
    [...pools.values()].flatMap((p) => [p.sql.end({ timeout: 2 }), p.reads.end({ timeout: 2 })]),
  );
  pools.clear();
}
