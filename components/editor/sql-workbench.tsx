"use client";

// The SQL editor page's interactive part for one connection: the editor, Run and Cancel, the outcome of the
// last run, and the history panel. Keeps the gateway session id across runs, fetches the catalog once for
// completion, and maps a target error's position (1-based, into the text sent) back onto the editor. Talks to
// the gateway only through exec-client.ts.
import "./editor.css";
import { useCallback, useEffect, useRef, useState } from "react";
import { cancelRun, execSql, fetchCatalog, fetchHistory, newRunId } from "./exec-client";
import { HistoryPanel } from "./history-panel";
import { type ErrorLocation, OutcomeView } from "./outcome-view";
import { RunningIndicator } from "./run-status";
import { setCompletionCatalog } from "./sql-completion";
import { SqlEditor, type SqlEditorHandle } from "./sql-editor";
import type { HistoryItem, RunOutcome } from "./types";

interface Run {
  runId: string;
  startedAt: number;
  controller: AbortController;
  cancelling: boolean;
}

const ROW_LIMITS = [1_000, 10_000, 100_000] as const;
const DEFAULT_ROW_LIMIT = 10_000;

const draftKey = (connection: string) => `portcullis:editor:draft:${connection}`;

function readDraft(connection: string): string {
  try {
    return window.localStorage.getItem(draftKey(connection)) ?? "";
  } catch {
    return "";
  }
}

export function SqlWorkbench({ connection }: { connection: string }) {
  const editorRef = useRef<SqlEditorHandle>(null);
  const sessionIdRef = useRef<string | undefined>(undefined);
  const runRef = useRef<Run | null>(null);
  const draftTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [run, setRun] = useState<Run | null>(null);
  const [outcome, setOutcome] = useState<RunOutcome | null>(null);
  const [errorLocation, setErrorLocation] = useState<ErrorLocation | null>(null);
  const [activeTab, setActiveTab] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [history, setHistory] = useState<HistoryItem[] | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [catalogNote, setCatalogNote] = useState<string | null>(null);
  const [modifier, setModifier] = useState("Ctrl");
  const [rowLimit, setRowLimit] = useState<number>(DEFAULT_ROW_LIMIT);

  useEffect(() => {
    if (/Mac|iPhone|iPad/.test(navigator.platform)) setModifier("⌘");
  }, []);

  const loadHistory = useCallback(async () => {
    try {
      setHistory(await fetchHistory(connection));
      setHistoryError(null);
    } catch (error) {
      setHistoryError(error instanceof Error ? error.message : "History could not be loaded.");
    }
  }, [connection]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  // The catalog, once per connection, for completion of table and column names.
  useEffect(() => {
    let stale = false;
    setCompletionCatalog([]);
    fetchCatalog(connection)
      .then((tables) => {
        if (stale) return;
        setCompletionCatalog(tables);
        setCatalogNote(null);
      })
      .catch(() => {
        if (!stale) setCatalogNote("Table names could not be loaded; completion is limited to keywords.");
      });
    return () => {
      stale = true;
    };
  }, [connection]);

  // Leaving the page while a run is in flight cancels it on the target, not only in the browser.
  useEffect(
    () => () => {
      const current = runRef.current;
      if (current) {
        void cancelRun(current.runId).catch(() => undefined);
        current.controller.abort();
      }
    },
    [],
  );

  const runQuery = useCallback(async () => {
    if (runRef.current) return;
    const editor = editorRef.current;
    if (!editor) return;
    const target = editor.getRunText();
    if (!target.text.trim()) {
      setNotice("Nothing to run: write a statement first.");
      editor.focus();
      return;
    }
    setNotice(null);
    editor.clearError();
    setErrorLocation(null);
    const started: Run = {
      runId: newRunId(),
      startedAt: Date.now(),
      controller: new AbortController(),
      cancelling: false,
    };
    runRef.current = started;
    setRun(started);
    try {
      const result = await execSql(
        connection,
        { input: target.text, sessionId: sessionIdRef.current, runId: started.runId, rowLimit },
        started.controller.signal,
      );
      if (result.status !== "error" && result.sessionId) sessionIdRef.current = result.sessionId;
      const located =
        result.status === "failed"
          ? result.error
          : result.status === "blocked"
            ? result.parseError
            : undefined;
      if (located?.position !== undefined && located.position > 0) {
        setErrorLocation(editor.showError(target.offset + located.position - 1, located.message));
      }
      setOutcome(result);
      // Open the first statement that returned rows ("SET ...; SELECT ..." opens the SELECT).
      const results = "results" in result ? result.results : [];
      setActiveTab(
        Math.max(
          0,
          results.findIndex((r) => r.columns.length > 0),
        ),
      );
    } catch {
      // Aborted because the page is going away: nothing to show.
      return;
    } finally {
      runRef.current = null;
      setRun(null);
    }
    void loadHistory();
  }, [connection, loadHistory, rowLimit]);

  const cancel = useCallback(async () => {
    const current = runRef.current;
    if (!current || current.cancelling) return;
    const cancelling = { ...current, cancelling: true };
    runRef.current = cancelling;
    setRun(cancelling);
    try {
      const accepted = await cancelRun(current.runId);
      if (!accepted && runRef.current?.runId === current.runId) {
        setNotice("The target did not accept the cancel; the statement may be finishing.");
      }
    } catch (error) {
      setNotice(error instanceof Error ? `Cancel failed: ${error.message}` : "Cancel failed.");
    }
  }, []);

  // Ctrl/Cmd+Enter also runs when the focus is outside the editor (e.g. on the grid).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.key !== "Enter" || event.defaultPrevented) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest(".sql-editor-host, .sql-editor-fallback")) return;
      event.preventDefault();
      void runQuery();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [runQuery]);

  const saveDraft = useCallback(
    (value: string) => {
      clearTimeout(draftTimer.current);
      draftTimer.current = setTimeout(() => {
        try {
          window.localStorage.setItem(draftKey(connection), value);
        } catch {
          // storage full or disabled: drafts are a convenience
        }
      }, 400);
    },
    [connection],
  );

  return (
    <div className="workbench">
      <div className="workbench-main">
        <SqlEditor
          ref={editorRef}
          initialValue={() => readDraft(connection)}
          onRun={() => void runQuery()}
          onChange={saveDraft}
        />
        <div className="run-bar">
          <button
            type="button"
            className="btn primary"
            onClick={() => void runQuery()}
            disabled={run !== null}
            aria-keyshortcuts="Control+Enter Meta+Enter"
          >
            <span aria-hidden="true">▶</span> Run
          </button>
          <button
            type="button"
            className="btn danger"
            onClick={() => void cancel()}
            disabled={run === null || run.cancelling}
          >
            Cancel
          </button>
          <span className="muted small run-hint">
            <kbd>{modifier}</kbd>+<kbd>Enter</kbd> runs the selection, or all of it
          </span>
          <label className="row-limit">
            Row limit
            <select value={rowLimit} onChange={(event) => setRowLimit(Number(event.target.value))}>
              {ROW_LIMITS.map((limit) => (
                <option key={limit} value={limit}>
                  {limit.toLocaleString("en-US")}
                </option>
              ))}
            </select>
          </label>
        </div>
        {(notice || catalogNote) && (
          <p className="alert info small run-notice" role="status">
            {notice ?? catalogNote}
          </p>
        )}
        <div className="outcome" aria-busy={run !== null}>
          {run ? (
            <div className="outcome-empty">
              <RunningIndicator startedAt={run.startedAt} cancelling={run.cancelling} />
            </div>
          ) : outcome ? (
            <OutcomeView
              connection={connection}
              outcome={outcome}
              errorLocation={errorLocation}
              activeTab={activeTab}
              onActivateTab={setActiveTab}
            />
          ) : (
            <div className="outcome-empty">
              <strong>No results yet</strong>
              <span>
                Write a query above and press Run. Statements pass the gateway&apos;s policy first; sensitive
                values come back masked.
              </span>
            </div>
          )}
        </div>
      </div>
      <HistoryPanel
        items={history}
        error={historyError}
        onPick={(statement) => editorRef.current?.setValue(statement)}
        onRefresh={() => void loadHistory()}
      />
    </div>
  );
}
