// An SQL session's statements in order: the input, its decision (allow/review/deny) with the reasons, the review
// that held or approved it, and what running it gave: duration, rows, and the first rows of the recorded result.
// The recorded result is masked already; masked cells show the masked text and the type that was detected.
import Link from "next/link";
import { formatDuration, formatTime } from "./format";
import { PREVIEW_ROWS, type ResultPreview, type StatementView } from "./session-events";

const DECISION_LABEL = { allow: "allow", review: "review", deny: "deny" } as const;
const DECISION_TAG = { allow: "ok", review: "review", deny: "off" } as const;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function MaskedPreview({ result }: { result: ResultPreview }) {
  if (result.columns.length === 0) {
    return <p className="small muted">{result.command || "done"}</p>;
  }
  return (
    <div className="preview-wrap">
      <table className="preview">
        <thead>
          <tr>
            {result.columns.map((name, col) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: columns may repeat a name; position is the identity
              <th key={col}>{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {result.rows.map((row, r) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: recorded rows have no key of their own
            <tr key={r}>
              {result.columns.map((_, c) => {
                const type = result.masked[`${r}:${c}`];
                const value = row[c];
                return (
                  <td
                    // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                    key={c}
                    className={type ? "masked" : value === null ? "null" : undefined}
                    title={type ? `masked: ${type}` : undefined}
                  >
                    {cellText(value)}
                    {type && <span className="mask-type">{type}</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted">
        {result.rowCount} row{result.rowCount === 1 ? "" : "s"}
        {result.rowCount > Math.min(PREVIEW_ROWS, result.recordedRows) &&
          ` · first ${Math.min(PREVIEW_ROWS, result.rows.length)} shown`}
        {result.isTruncated && " · cut at the row limit"}
        {result.durationMs !== null && ` · ${formatDuration(result.durationMs)}`}
      </p>
    </div>
  );
}

export function StatementTimeline({ statements }: { statements: StatementView[] }) {
  return (
    <ol className="timeline" aria-label="Statements">
      {statements.map((s) => (
        <li key={s.id} className={s.decision} data-testid="statement">
          <div className="stmt-head">
            <span className={`tag ${DECISION_TAG[s.decision]}`}>{DECISION_LABEL[s.decision]}</span>
            {s.className && <code>{s.className}</code>}
            <span>{formatTime(s.at)}</span>
            {s.reviewId && (
              <Link href={`/inbox/${s.reviewId}`}>
                {s.decision === "review" ? "waiting for review" : "review"}
              </Link>
            )}
            {s.outcome?.durationMs != null && <span>{formatDuration(s.outcome.durationMs)}</span>}
            {s.outcome?.rowCount != null && (
              <span>
                {s.outcome.rowCount} row{s.outcome.rowCount === 1 ? "" : "s"}
              </span>
            )}
            {s.outcome && s.outcome.status !== "done" && <span className="tag off">{s.outcome.status}</span>}
            {!s.outcome && s.decision === "allow" && (
              <span className="tag">{s.status || "no result recorded"}</span>
            )}
          </div>
          <pre className="stmt">{s.input}</pre>
          {s.parseError && <p className="small">Parser: {s.parseError}</p>}
          {s.decision !== "allow" && s.reasons.length > 0 && (
            <ul className="reasons">
              {s.reasons
                .filter((r) => r.action === s.decision)
                .map((r, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: reasons are positional
                  <li key={i}>
                    <strong>{r.ruleName || "default"}</strong>
                    {r.className && <span className="muted"> ({r.className})</span>}: {r.message}
                  </li>
                ))}
            </ul>
          )}
          {s.outcome?.error && <div className="alert error small">{s.outcome.error}</div>}
          {s.outcome?.results.map((result, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: one result per statement of the input, in order
            <MaskedPreview key={i} result={result} />
          ))}
        </li>
      ))}
    </ol>
  );
}
