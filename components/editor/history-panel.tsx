"use client";

// My previous statements on this connection, newest first, with how each ended. Choosing one loads it into
// the editor (it does not run it). The list comes from the workbench, which refreshes it after every run.
import { formatDuration, plural } from "./cell-format";
import type { HistoryItem } from "./types";

interface HistoryPanelProps {
  items: HistoryItem[] | null;
  error: string | null;
  onPick: (statement: string) => void;
  onRefresh: () => void;
}

function timeAgo(at: string): string {
  const then = Date.parse(at);
  if (Number.isNaN(then)) return "";
  const seconds = Math.max(0, Math.round((Date.now() - then) / 1000));
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(then).toLocaleDateString();
}

function statusClass(item: HistoryItem): string {
  if (item.decision === "deny" || item.status === "blocked") return "off";
  if (item.decision === "review" || item.status === "held" || item.status.startsWith("pending"))
    return "warn";
  if (item.status === "failed" || item.status === "error" || item.status === "cancelled") return "off";
  return "ok";
}

function statusText(item: HistoryItem): string {
  if (item.status) return item.status.replace(/_/g, " ");
  return item.decision;
}

export function HistoryPanel({ items, error, onPick, onRefresh }: HistoryPanelProps) {
  return (
    <section className="history" aria-labelledby="history-heading">
      <div className="history-head">
        <h2 id="history-heading">History</h2>
        <button type="button" className="btn small" onClick={onRefresh} aria-label="Refresh history">
          Refresh
        </button>
      </div>
      {error ? (
        <p className="alert error small">{error}</p>
      ) : items === null ? (
        <p className="muted small history-empty">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted small history-empty">
          Statements you run on this connection appear here. Choose one to load it into the editor.
        </p>
      ) : (
        <ul className="history-list">
          {items.map((item, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: history entries have no id; order is stable per load
            <li key={`${item.at}-${i}`}>
              <button
                type="button"
                className="history-item"
                onClick={() => onPick(item.statement)}
                title="Load into the editor"
              >
                <code className="history-sql">{item.statement}</code>
                <span className="history-meta">
                  <span className={`tag ${statusClass(item)}`}>{statusText(item)}</span>
                  {item.rowCount !== null && <span>{plural(item.rowCount, "row")}</span>}
                  {item.durationMs !== null && <span>{formatDuration(item.durationMs)}</span>}
                  <span className="history-time">{timeAgo(item.at)}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
