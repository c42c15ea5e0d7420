/**
 * The PostgreSQL driver: a postgres.js pool per connection under the gateway's credentials, statement timeout,
 * row limit applied while streaming (a cursor, so memory stays flat however large the table), cancellation,
 * and values normalised to JSON. Not responsible for deciding whether a statement may run.
 */
import "server-only";
import postgres from "postgres";
import { openConnectionSecret } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { processSingleton } from "@/server/singleton";
import { describeNetworkError } from "./describe-error";
import { typeName } from "./pg-types";

export interface ResultColumn {
  name: string;
  type: string;
  /** "schema.table" the column comes from, when it is a plain table column */
  table?: string;
}

export interface StatementResult {
  command: string;
  columns: ResultColumn[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
}

export class TargetError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    readonly position: number | undefined,
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
}

const pools = processSingleton("pgPools", () => new Map<string, Pool>());

export const DEFAULT_STATEMENT_TIMEOUT_MS = Number(process.env.STATEMENT_TIMEOUT_MS ?? 60_000);
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
  const open = (readOnly: boolean) =>
    postgres({
      host: row.host,
      port: row.port,
      database: row.database ?? "postgres",
      username: row.username,
      password: secret.password ?? "",
      max: Number(row.options.poolSize ?? 10),
      idle_timeout: 60,
      connect_timeout: 10,
      prepare: false,
      onnotice: () => {},
      types: { text: asText },
      // Sent in the startup packet: no extra round trip per run, and RESET ALL returns to it.
      connection: {
        application_name: "portcullis",
        statement_timeout: DEFAULT_STATEMENT_TIMEOUT_MS,
        ...(readOnly && { default_transaction_read_only: true }),
      },
    }) as unknown as Sql;
  const pool = { key, sql: open(false), reads: open(true), tableNames: new Map<number, string | null>() };
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

function toTargetError(err: unknown, connectionId: string): Error {
  const e = err as { code?: string; message?: string; position?: string | number };
  if (e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new TargetError(
      e.message ?? "the target refused the statement",
      e.code,
      e.position ? Number(e.position) : undefined,
    );
  }
  const network = describeNetworkError(err, "the target", 0);
  if (network) return new GatewayError("target_unavailable", network.message.replace(":0", ""));
  if (
    e?.code === "CONNECTION_DESTROYED" ||
    e?.code === "CONNECTION_CLOSED" ||
    e?.code === "CONNECTION_ENDED"
  ) {
    pools.delete(connectionId);
    return new GatewayError("target_unavailable", "the connection to the target was closed");
  }
  return err instanceof Error ? err : new Error(String(err));
}

async function resolveTables(pool: Pool, sql: Sql, oids: number[]) {
  const unknown = [...new Set(oids.filter((o) => o > 0 && !pool.tableNames.has(o)))];
  if (unknown.length > 0) {
    const rows = await sql.unsafe(
      "select c.oid::int as oid, n.nspname || '.' || c.relname as name from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = any($1::oid[])",
      [unknown as never],
    );
    for (const oid of unknown) pool.tableNames.set(oid, null);
    for (const r of rows as unknown as { oid: number; name: string }[]) pool.tableNames.set(r.oid, r.name);
  }
}

interface RawColumn {
  name: string;
  type: number;
  table: number;
}

function columnsOf(raw: RawColumn[] | undefined, pool: Pool): ResultColumn[] {
  return (raw ?? []).map((c) => {
    const table = c.table ? pool.tableNames.get(c.table) : null;
    return { name: c.name, type: typeName(c.type), ...(table && { table }) };
  });
}

export interface RunOptions {
  rowLimit: number;
  statementTimeoutMs?: number;
  /**
   * Statements read through a cursor, batch by batch (those that can return more rows than the limit); the
   * others run plainly, in one round trip, and a result longer than the limit is cut after it arrives.
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
   * input created is visible): lineage explains the statement there. An error it throws ends the run there.
   */
  beforeStatement?: (
    index: number,
    query: (text: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>,
  ) => Promise<void>;
}

/**
 * Runs the statements in order on one reserved session of the pool (so BEGIN ... COMMIT spans them),
 * streaming rows up to the limit. Stops at the first error, returning the results before it and the error.
 */
export async function runStatements(
  connectionId: string,
  statements: string[],
  options: RunOptions,
): Promise<{ results: StatementResult[]; error?: Error }> {
  const pool = await poolFor(connectionId, options.version);
  let reserved: Awaited<ReturnType<Sql["reserve"]>>;
  try {
    reserved = await (options.readOnly ? pool.reads : pool.sql).reserve();
  } catch (err) {
    throw toTargetError(err, connectionId);
  }
  const results: StatementResult[] = [];
  let cancelled = false;
  try {
    if (
      options.statementTimeoutMs !== undefined &&
      options.statementTimeoutMs !== DEFAULT_STATEMENT_TIMEOUT_MS
    ) {
      await reserved.unsafe(`set statement_timeout = ${Math.max(0, Math.floor(options.statementTimeoutMs))}`);
    }
    for (const [index, text] of statements.entries()) {
      if (cancelled) break;
      try {
        await options.beforeStatement?.(
          index,
          async (q, params) =>
            (await reserved.unsafe(q, params as never[])) as unknown as Record<string, unknown>[],
        );
        if (options.throughCursor(index)) {
          let rows: unknown[][] = [];
          let rowCount = 0;
          let raw: RawColumn[] | undefined;
          let sink: ((rows: unknown[][]) => void) | undefined;
          let truncated = false;
          const query = reserved.unsafe(text).values();
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
              reserved as unknown as Sql,
              raw.map((c) => c.table),
            );
          results.push({
            command,
            columns: columnsOf(raw, pool),
            rows,
            rowCount,
            truncated,
          });
        } else {
          const query = reserved.unsafe(text).values();
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
              reserved as unknown as Sql,
              result.columns.map((c) => c.table),
            );
          const truncated = result.length > options.rowLimit;
          results.push({
            command: result.command ?? "OK",
            columns: columnsOf(result.columns, pool),
            rows: truncated ? result.slice(0, options.rowLimit) : [...result],
            rowCount: result.count ?? result.length,
            truncated,
          });
        }
      } catch (err) {
        return { results, error: toTargetError(err, connectionId) };
      }
    }
    return { results };
  } finally {
    // A session left inside a failed or open transaction, or with settings changed, must not be handed to the
    // next caller: it is cleaned before it goes back to the pool, in one round trip and off the caller's path.
    void reserved
      .unsafe("rollback; reset all")
      .simple()
      .catch(() => {})
      .finally(() => reserved.release());
  }
}

/** Runs a catalog query the gateway itself issues (completion): never user input. */
export async function queryCatalog(connectionId: string, text: string): Promise<Record<string, unknown>[]> {
  const pool = await poolFor(connectionId);
  try {
    return (await pool.sql.unsafe(text)) as unknown as Record<string, unknown>[];
  } catch (err) {
    throw toTargetError(err, connectionId);
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
      return (await pool.reads.unsafe(text, params as never[])) as unknown as Record<string, unknown>[];
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
