"use client";

// The results of one run: a tab per statement (arrow keys move between tabs), the chosen statement's grid or
// its command tag ("UPDATE 3"), the export buttons, and a footer with row count, duration, masked cells and a
// clear notice when the server truncated the rows.
import { type KeyboardEvent, useRef } from "react";
import { commandTag, formatDuration, plural } from "./cell-format";
import { downloadText, exportFilename, resultToCsv, resultToJson } from "./export";
import { ResultsGrid } from "./results-grid";
import type { StatementResult } from "./types";

interface ResultTabsProps {
  connection: string;
  results: StatementResult[];
  active: number;
  onActivate: (index: number) => void;
  /** e.g. "allowed · read", shown beside the tabs */
  decisionNote?: string;
  /** the gateway's stages for the run (Server-Timing), shown as its own time beside the target's */
  gatewayTiming?: Record<string, number>;
}

const STAGE_NAMES: Record<string, string> = {
  connection: "connection",
  parse: "parsing",
  policy: "policy",
  record: "recording",
  mask: "masking",
  reply: "reply",
};

const ms = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** "gateway 2.4 ms", with each stage in the title; the target's time is the run's duration, shown apart. */
function GatewayNote({ timing }: { timing: Record<string, number> }) {
  const stages = Object.entries(timing).filter(([name]) => name !== "target");
  const total = stages.reduce((sum, [, value]) => sum + value, 0);
  const detail = stages.map(([name, value]) => `${STAGE_NAMES[name] ?? name} ${ms(value)}`).join(", ");
  return (
    <span className="gateway-note" title={`Time spent in the gateway: ${detail}`}>
      gateway {ms(total)}
    </span>
  );
}

/** "50 rows", or "1,000 of 12,345 rows" when the server sent fewer than the statement returned. */
function rowSummary(result: StatementResult): string {
  const shown = result.rows.length;
  return result.rowCount > shown
    ? `${shown.toLocaleString("en-US")} of ${plural(result.rowCount, "row")}`
    : plural(shown, "row");
}

function tabLabel(result: StatementResult): string {
  if (result.columns.length === 0) return commandTag(result);
  return `${result.command || "Result"} · ${rowSummary(result)}`;
}

export function ResultTabs({
  connection,
  results,
  active,
  onActivate,
  decisionNote,
  gatewayTiming,
}: ResultTabsProps) {
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const index = Math.min(active, results.length - 1);
  const result = results[index];
  if (!result) return null;
  const hasRows = result.columns.length > 0;
  const maskedCount = new Set(result.masked.map(([r, c]) => `${r}:${c}`)).size;

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    let next: number | null = null;
    if (event.key === "ArrowRight") next = (index + 1) % results.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + results.length) % results.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = results.length - 1;
    if (next === null) return;
    event.preventDefault();
    onActivate(next);
    tabRefs.current[next]?.focus();
  };

  const panelId = `result-panel-${index}`;
  const summary = (
    <span className="result-summary">
      <span className="row-summary">{hasRows ? rowSummary(result) : commandTag(result)}</span>
      {result.durationMs !== undefined && (
        <span title="Time on the target database">{formatDuration(result.durationMs)}</span>
      )}
      {gatewayTiming && <GatewayNote timing={gatewayTiming} />}
      {maskedCount > 0 && <span className="masked-note">{plural(maskedCount, "value")} masked</span>}
      {result.truncated && (
        <span className="truncated-note" role="note">
          Truncated at {(result.rowLimit ?? result.rows.length).toLocaleString("en-US")} rows: raise the row
          limit or narrow the query.
        </span>
      )}
    </span>
  );
  return (
    <div className="result-view">
      <div className="result-bar">
        <div className="result-tabs" role="tablist" aria-label="Statement results">
          {results.map((r, i) => (
            <button
              // biome-ignore lint/suspicious/noArrayIndexKey: results are positional
              key={i}
              ref={(el) => {
                tabRefs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`result-tab-${i}`}
              aria-selected={i === index}
              aria-controls={panelId}
              tabIndex={i === index ? 0 : -1}
              className="result-tab"
              title={r.statement}
              onClick={() => onActivate(i)}
              onKeyDown={onTabKey}
            >
              <span className="result-tab-n">{i + 1}</span>
              {tabLabel(r)}
            </button>
          ))}
        </div>
        <div className="btn-row">
          {decisionNote && <span className="tag ok small">{decisionNote}</span>}
          <button
            type="button"
            className="btn small"
            disabled={!hasRows}
            onClick={() =>
              downloadText(
                exportFilename(connection, result.statementIndex, "csv"),
                "text/csv",
                resultToCsv(result),
              )
            }
          >
            Export CSV
          </button>
          <button
            type="button"
            className="btn small"
            disabled={!hasRows}
            onClick={() =>
              downloadText(
                exportFilename(connection, result.statementIndex, "json"),
                "application/json",
                resultToJson(result),
              )
            }
          >
            Export JSON
          </button>
        </div>
      </div>
      <div className="result-panel" role="tabpanel" id={panelId} aria-labelledby={`result-tab-${index}`}>
        {hasRows ? (
          <ResultsGrid result={result} label={`Result of statement ${index + 1}`} summary={summary} />
        ) : (
          <>
            <div className="result-command">
              <div className="result-command-tag mono">{commandTag(result)}</div>
              <pre className="result-statement mono">{result.statement}</pre>
            </div>
            <div className="rg-footer small">{summary}</div>
          </>
        )}
      </div>
    </div>
  );
}
