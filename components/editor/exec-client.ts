// The SQL editor's calls to the gateway: run (exec), cancel, catalog and history, through the fetchers of
// lib/api. Exec reads the body of every status (202 held, 403 blocked, 422 failed carry what the page shows),
// so it takes the raw response and turns each reply into a RunOutcome, read defensively: a missing field
// becomes an empty value, never a crash in the page. Catalog and history replies are checked by their schemas.
import { connectionsApi, type ExecRequest, execApi, runsApi } from "@/lib/api";
import { parseServerTiming } from "@/server/http/server-timing";
import type {
  ApiErrorBody,
  BlockReason,
  CatalogTable,
  HistoryItem,
  MaskedCell,
  ResultColumn,
  RunOutcome,
  StatementResult,
} from "./types";

type Json = Record<string, unknown>;

const CANCELLED_SQLSTATE = "57014";

function asRecord(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}
function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function asString(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}
function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function readColumns(value: unknown): ResultColumn[] {
  return asArray(value).map((c) => {
    const column = asRecord(c);
    const read: ResultColumn = { name: asString(column.name, "?column?"), type: asString(column.type) };
    if (column.lineage !== undefined) {
      const lineage = asRecord(column.lineage);
      read.lineage = {
        type: asString(lineage.type, "masked"),
        sources: asArray(lineage.sources).map((s) => asString(s)),
        ...(Array.isArray(lineage.keys) && { keys: lineage.keys.map((k) => asString(k)) }),
        ...(typeof lineage.reason === "string" && { reason: lineage.reason }),
      };
    }
    return read;
  });
}

function readMasked(value: unknown): MaskedCell[] {
  const cells: MaskedCell[] = [];
  for (const entry of asArray(value)) {
    if (!Array.isArray(entry)) continue;
    const [row, col, type] = entry;
    if (typeof row === "number" && typeof col === "number") cells.push([row, col, asString(type, "masked")]);
  }
  return cells;
}

function readResult(value: unknown, index: number): StatementResult {
  const r = asRecord(value);
  const rows = asArray(r.rows).map((row) => asArray(row));
  return {
    statementIndex: asNumber(r.statementIndex) ?? index,
    statement: asString(r.statement),
    command: asString(r.command),
    columns: readColumns(r.columns),
    rows,
    masked: readMasked(r.masked),
    rowCount: asNumber(r.rowCount) ?? rows.length,
    truncated: r.truncated === true,
    rowLimit: asNumber(r.rowLimit),
    durationMs: asNumber(r.durationMs),
  };
}

function readResults(body: Json): StatementResult[] {
  if (Array.isArray(body.results)) return body.results.map(readResult);
  // A reply with only the top-level shape (columns, rows) is one result.
  if (Array.isArray(body.rows) || Array.isArray(body.columns)) return [readResult(body, 0)];
  return [];
}

function readReasons(value: unknown): BlockReason[] {
  return asArray(value).map((entry) => {
    if (typeof entry === "string") return { message: entry };
    const r = asRecord(entry);
    return {
      statementIndex: asNumber(r.statementIndex),
      statement: typeof r.statement === "string" ? r.statement : undefined,
      class: typeof r.class === "string" ? r.class : undefined,
      ruleId: typeof r.ruleId === "string" ? r.ruleId : undefined,
      ruleName: typeof r.ruleName === "string" ? r.ruleName : undefined,
      action: typeof r.action === "string" ? r.action : undefined,
      message: asString(r.message, asString(r.reason)),
    };
  });
}

function readError(value: unknown, httpStatus: number): ApiErrorBody {
  const e = asRecord(value);
  return {
    code: asString(e.code, "error"),
    message: asString(e.message, `The request failed (HTTP ${httpStatus}).`),
    position: asNumber(e.position),
    sqlState: typeof e.sqlState === "string" ? e.sqlState : undefined,
    detail: typeof e.detail === "string" ? e.detail : undefined,
    hint: typeof e.hint === "string" ? e.hint : undefined,
  };
}

/** Turns one exec reply (any status) into what the editor shows. */
export function readExecReply(httpStatus: number, raw: unknown): RunOutcome {
  const body = asRecord(raw);
  const sessionId = typeof body.sessionId === "string" ? body.sessionId : undefined;
  const status = asString(body.status);
  if (httpStatus === 200 && (status === "done" || status === "")) {
    const decision = asRecord(body.decision);
    return {
      status: "done",
      sessionId,
      decision:
        typeof decision.decision === "string"
          ? {
              decision: decision.decision,
              class: typeof decision.class === "string" ? decision.class : undefined,
              reasons: asArray(decision.reasons),
            }
          : undefined,
      results: readResults(body),
      durationMs: asNumber(body.durationMs),
    };
  }
  if (httpStatus === 202 || status === "pending_review") {
    return {
      status: "pending_review",
      sessionId,
      reviewId: asString(body.reviewId),
      reasons: readReasons(body.reasons),
    };
  }
  if (status === "blocked") {
    const parseError = asRecord(body.parseError);
    return {
      status: "blocked",
      sessionId,
      reasons: readReasons(body.reasons),
      error: body.error === undefined ? undefined : readError(body.error, httpStatus),
      parseError:
        typeof parseError.message === "string"
          ? { message: parseError.message, position: asNumber(parseError.position) }
          : undefined,
    };
  }
  const error = readError(body.error, httpStatus);
  if (status === "failed" || httpStatus === 422) {
    const results = readResults(body);
    if (error.sqlState === CANCELLED_SQLSTATE || error.code === "cancelled") {
      return { status: "cancelled", sessionId, results, message: error.message };
    }
    return { status: "failed", sessionId, results, error };
  }
  return { status: "error", httpStatus, error };
}

export type { ExecRequest };

/** Runs SQL through the gateway. Rejects only when `signal` aborts; every other failure is an outcome. */
export async function execSql(connection: string, request: ExecRequest, signal?: AbortSignal) {
  let response: Response;
  try {
    response = await execApi.run(connection, request, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    return {
      status: "error",
      httpStatus: 0,
      error: { code: "network", message: "The console did not answer. Check your network and try again." },
    } satisfies RunOutcome;
  }
  const raw: unknown = await response.json().catch(() => ({}));
  const outcome = readExecReply(response.status, raw);
  const timing = parseServerTiming(response.headers.get("server-timing"));
  if (outcome.status === "done" && Object.keys(timing).length > 0) outcome.gatewayTiming = timing;
  return outcome;
}

/** Asks the gateway to cancel a run in flight; true when the target accepted the cancel. */
export async function cancelRun(runId: string): Promise<boolean> {
  return runsApi.cancel(runId);
}

export async function fetchCatalog(connection: string): Promise<CatalogTable[]> {
  return (await connectionsApi.catalog(connection)).tables;
}

export async function fetchHistory(connection: string): Promise<HistoryItem[]> {
  return (await connectionsApi.history(connection)).items;
}

/** A v4 UUID, also where crypto.randomUUID is missing (plain-HTTP origins other than localhost). */
export function newRunId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
