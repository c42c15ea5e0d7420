// Turns a session's recorded events (loose JSON) into what the session page shows: SQL statements paired with
// their results (terminal sessions replay through the replay API instead). Pure functions, safe on the server and the client;
// what they read is the recording, which holds only masked values.

export type Decision = "allow" | "review" | "deny";

export interface RecordedEvent {
  id: number;
  at: string;
  type: string;
  data: Record<string, unknown>;
}

export interface ReasonView {
  statement: string;
  ruleName: string;
  action: string;
  message: string;
  className: string;
}

export interface ResultPreview {
  statement: string;
  command: string;
  columns: string[];
  rows: unknown[][];
  /** "row:col" → detected type */
  masked: Record<string, string>;
  rowCount: number;
  recordedRows: number;
  isTruncated: boolean;
  durationMs: number | null;
}

export interface StatementView {
  id: number;
  at: string;
  input: string;
  className: string;
  decision: Decision;
  status: string;
  reviewId: string | null;
  reasons: ReasonView[];
  parseError: string | null;
  outcome: {
    status: string;
    durationMs: number | null;
    rowCount: number | null;
    error: string | null;
    results: ResultPreview[];
  } | null;
}

/** Rows of a recorded result the page shows. */
export const PREVIEW_ROWS = 20;

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const decisionOf = (v: unknown): Decision => (v === "deny" || v === "review" ? v : "allow");

function previewOf(raw: unknown): ResultPreview {
  const r = obj(raw);
  const masked: Record<string, string> = {};
  for (const cell of arr(r.masked)) {
    const [row, col, type] = arr(cell);
    if (typeof row === "number" && typeof col === "number" && row < PREVIEW_ROWS)
      masked[`${row}:${col}`] = str(type);
  }
  const rows = arr(r.rows).slice(0, PREVIEW_ROWS).map(arr);
  return {
    statement: str(r.statement),
    command: str(r.command),
    columns: arr(r.columns).map((c) => str(obj(c).name)),
    rows,
    masked,
    rowCount: num(r.rowCount) ?? rows.length,
    recordedRows: num(r.recordedRows) ?? rows.length,
    isTruncated: r.truncated === true,
    durationMs: num(r.durationMs),
  };
}

/** SQL statements in order, each with its decision and (when it ran) its recorded outcome. */
export function toStatementViews(events: RecordedEvent[]): StatementView[] {
  const outcomes = new Map<number, Record<string, unknown>>();
  for (const e of events) {
    if (e.type === "result") outcomes.set(Number(e.data.statementEventId), e.data);
  }
  return events
    .filter((e) => e.type === "statement")
    .map((e) => {
      const d = e.data;
      const outcome = outcomes.get(e.id);
      const error = obj(outcome?.error);
      return {
        id: e.id,
        at: e.at,
        input: str(d.input),
        className: str(d.class),
        decision: decisionOf(d.decision),
        status: str(d.status),
        reviewId: str(d.reviewId) || null,
        parseError: str(obj(d.parseError).message) || null,
        reasons: arr(d.reasons).map((raw) => {
          const r = obj(raw);
          return {
            statement: str(r.statement),
            ruleName: str(r.ruleName),
            action: str(r.action),
            message: str(r.message),
            className: str(r.class),
          };
        }),
        outcome: outcome
          ? {
              status: str(outcome.status),
              durationMs: num(outcome.durationMs),
              rowCount: num(outcome.rowCount),
              error: str(error.message) || (typeof outcome.error === "string" ? outcome.error : null),
              results: arr(outcome.results).map(previewOf),
            }
          : null,
      };
    });
}
