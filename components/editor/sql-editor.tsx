"use client";

// The SQL text editor: Monaco with SQL highlighting, Ctrl/Cmd+Enter to run, completion from the catalog, and
// target errors shown as a marker at their offset. When Monaco cannot load (files missing), a plain textarea
// with the same handle keeps the page usable. Not responsible for running anything: it hands the text (the
// selection if any, else everything) and its offset to the workbench.
import { type Ref, useEffect, useImperativeHandle, useRef, useState } from "react";
import { loadMonaco, type MonacoApi } from "./monaco-loader";
import { registerSqlCompletion } from "./sql-completion";

type StandaloneEditor = import("monaco-editor").editor.IStandaloneCodeEditor;
type DecorationsCollection = import("monaco-editor").editor.IEditorDecorationsCollection;

export interface RunText {
  text: string;
  /** 0-based offset of `text` in the whole editor content. */
  offset: number;
  isSelection: boolean;
}

export interface SqlEditorHandle {
  /** The selection when one is made, otherwise the whole text. */
  getRunText(): RunText;
  setValue(text: string): void;
  focus(): void;
  /** Marks the error at a 0-based offset of the whole content and scrolls it into view. */
  showError(offset: number, message: string): { line: number; column: number };
  clearError(): void;
}

interface SqlEditorProps {
  ref?: Ref<SqlEditorHandle>;
  /** Called once when the editor is created, for a saved draft. */
  initialValue: () => string;
  onRun: () => void;
  onChange?: (value: string) => void;
}

const MARKER_OWNER = "portcullis";

function lineAndColumn(text: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

export function SqlEditor({ ref, initialValue, onRun, onChange }: SqlEditorProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const editorRef = useRef<StandaloneEditor | null>(null);
  const monacoRef = useRef<MonacoApi | null>(null);
  const decorationsRef = useRef<DecorationsCollection | null>(null);
  const onRunRef = useRef(onRun);
  const onChangeRef = useRef(onChange);
  const initialRef = useRef(initialValue);
  const [state, setState] = useState<"loading" | "ready" | { failed: string }>("loading");
  const [fallbackError, setFallbackError] = useState<string | null>(null);
  onRunRef.current = onRun;
  onChangeRef.current = onChange;

  useEffect(() => {
    let disposed = false;
    loadMonaco()
      .then((monaco) => {
        const host = hostRef.current;
        if (disposed || !host) return;
        registerSqlCompletion(monaco);
        const editor = monaco.editor.create(host, {
          value: initialRef.current(),
          language: "sql",
          automaticLayout: true,
          minimap: { enabled: false },
          fontSize: 13,
          lineHeight: 20,
          fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
          scrollBeyondLastLine: false,
          wordWrap: "on",
          tabSize: 2,
          padding: { top: 8, bottom: 8 },
          ariaLabel: "SQL editor",
          placeholder: "select * from customers limit 100   — Ctrl+Enter runs it",
          fixedOverflowWidgets: true,
          renderLineHighlight: "line",
          overviewRulerLanes: 0,
          glyphMargin: false,
          lineNumbersMinChars: 3,
        });
        editor.addAction({
          id: "portcullis.run",
          label: "Run query",
          keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
          contextMenuGroupId: "navigation",
          contextMenuOrder: 0,
          run: () => {
            // Running closes an open completion list instead of leaving it over the editor.
            editor.trigger("portcullis", "hideSuggestWidget", null);
            onRunRef.current();
          },
        });
        editor.onDidChangeModelContent(() => onChangeRef.current?.(editor.getValue()));
        editorRef.current = editor;
        monacoRef.current = monaco;
        decorationsRef.current = editor.createDecorationsCollection();
        setState("ready");
      })
      .catch((error: unknown) => {
        if (!disposed) setState({ failed: error instanceof Error ? error.message : String(error) });
      });
    return () => {
      disposed = true;
      const editor = editorRef.current;
      editorRef.current = null;
      decorationsRef.current = null;
      if (editor) {
        editor.getModel()?.dispose();
        editor.dispose();
      }
    };
  }, []);

  useImperativeHandle(
    ref,
    (): SqlEditorHandle => ({
      getRunText() {
        const editor = editorRef.current;
        const model = editor?.getModel();
        if (editor && model) {
          const selection = editor.getSelection();
          if (selection && !selection.isEmpty()) {
            return {
              text: model.getValueInRange(selection),
              offset: model.getOffsetAt(selection.getStartPosition()),
              isSelection: true,
            };
          }
          return { text: model.getValue(), offset: 0, isSelection: false };
        }
        const area = textareaRef.current;
        if (!area) return { text: "", offset: 0, isSelection: false };
        if (area.selectionEnd > area.selectionStart) {
          return {
            text: area.value.slice(area.selectionStart, area.selectionEnd),
            offset: area.selectionStart,
            isSelection: true,
          };
        }
        return { text: area.value, offset: 0, isSelection: false };
      },
      setValue(text) {
        const editor = editorRef.current;
        if (editor) {
          // An edit (not setValue) keeps undo working after loading a query from history.
          const model = editor.getModel();
          if (model) {
            editor.pushUndoStop();
            editor.executeEdits("history", [{ range: model.getFullModelRange(), text }]);
            editor.pushUndoStop();
            editor.setSelection(model.getFullModelRange().collapseToEnd());
          }
          editor.focus();
          return;
        }
        const area = textareaRef.current;
        if (area) {
          area.value = text;
          onChangeRef.current?.(text);
          area.focus();
        }
      },
      focus() {
        (editorRef.current ?? textareaRef.current)?.focus();
      },
      showError(offset, message) {
        const editor = editorRef.current;
        const monaco = monacoRef.current;
        const model = editor?.getModel();
        if (editor && monaco && model) {
          const length = model.getValueLength();
          const start = Math.max(0, Math.min(offset, length > 0 && offset >= length ? length - 1 : offset));
          const position = model.getPositionAt(start);
          const word = model.getWordAtPosition(position);
          const startColumn = word ? word.startColumn : position.column;
          const endColumn = word
            ? word.endColumn
            : Math.min(position.column + 1, model.getLineMaxColumn(position.lineNumber));
          const range = new monaco.Range(
            position.lineNumber,
            startColumn,
            position.lineNumber,
            Math.max(endColumn, startColumn + 1),
          );
          monaco.editor.setModelMarkers(model, MARKER_OWNER, [
            { severity: monaco.MarkerSeverity.Error, message, ...range },
          ]);
          decorationsRef.current?.set([
            {
              range,
              options: {
                className: "sql-error-range",
                linesDecorationsClassName: "sql-error-line",
                stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
              },
            },
          ]);
          editor.revealPositionInCenterIfOutsideViewport(position);
          return { line: position.lineNumber, column: position.column };
        }
        const area = textareaRef.current;
        const text = area?.value ?? "";
        if (area) {
          area.setSelectionRange(offset, Math.min(offset + 1, text.length));
          setFallbackError(message);
        }
        return lineAndColumn(text, offset);
      },
      clearError() {
        const model = editorRef.current?.getModel();
        if (model && monacoRef.current) monacoRef.current.editor.setModelMarkers(model, MARKER_OWNER, []);
        decorationsRef.current?.clear();
        setFallbackError(null);
      },
    }),
    [],
  );

  if (typeof state === "object") {
    return (
      <div className="sql-editor-fallback">
        <p className="alert warn small" role="status">
          The code editor did not load ({state.failed}). A plain text box is used instead; Ctrl+Enter still
          runs.
        </p>
        <textarea
          ref={textareaRef}
          aria-label="SQL editor"
          className="sql-textarea"
          defaultValue={initialRef.current()}
          spellCheck={false}
          aria-invalid={fallbackError ? true : undefined}
          onChange={(e) => onChangeRef.current?.(e.target.value)}
          onKeyDown={(e) => {
            if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
              e.preventDefault();
              onRunRef.current();
            }
          }}
        />
      </div>
    );
  }
  return (
    <div className="sql-editor-host" data-state={state}>
      <div ref={hostRef} className="sql-editor-monaco" />
      {state === "loading" && (
        <div className="sql-editor-loading" role="status">
          <span className="spinner" aria-hidden="true" /> Loading the editor…
        </div>
      )}
    </div>
  );
}
