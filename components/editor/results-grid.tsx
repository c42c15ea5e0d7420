"use client";

// A virtualized, read-only grid for one statement's result: fixed-height rows, only the visible window (plus
// overscan) in the DOM, a spacer of the full height, a sticky header with each column's name and type, and a
// sticky row-number column. A cell is selected by click or arrow keys and copied with Ctrl/Cmd+C or the Copy
// button. Masked cells show the masked text the server sent, a distinct style, and a tag naming the type.
// Stays smooth at 100,000 rows: work per scroll is proportional to the window, not the result.
import {
  type KeyboardEvent,
  memo,
  type ReactNode,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from "react";
import { cellText, isNumericType, lineageNote, maskIndex, maskLabel } from "./cell-format";
import { copyText } from "./export";
import type { StatementResult } from "./types";

const ROW_HEIGHT = 28;
const HEADER_HEIGHT = 44;
const OVERSCAN = 8;
const CHAR_WIDTH = 7.8;
const MIN_COL = 76;
const MAX_COL = 380;
const SAMPLE_ROWS = 300;

interface Cell {
  row: number;
  col: number;
}

function columnWidths(result: StatementResult, masks: Map<number, string[]>): number[] {
  const count = result.columns.length;
  return result.columns.map((column, col) => {
    let chars = Math.max(
      column.name.length + 2,
      column.type.length + 1 + (column.lineage ? maskLabel(column.lineage.type).length + 3 : 0),
    );
    let tag = 0;
    const sample = Math.min(result.rows.length, SAMPLE_ROWS);
    for (let row = 0; row < sample; row++) {
      const text = cellText(result.rows[row]?.[col]);
      chars = Math.max(chars, Math.min(text.length, 60));
      const types = masks.get(row * count + col);
      if (types) tag = Math.max(tag, types.map(maskLabel).join(" · ").length * 6.5 + 20);
    }
    return Math.round(Math.min(MAX_COL, Math.max(MIN_COL, chars * CHAR_WIDTH + 26 + tag)));
  });
}

const EMPTY_ROW: unknown[] = [];

function cellIdOf(prefix: string, row: number, col: number) {
  return `${prefix}-r${row}-c${col}`;
}

interface GridRowProps {
  row: number;
  values: unknown[];
  columns: StatementResult["columns"];
  masks: Map<number, string[]>;
  template: string;
  width: number;
  /** the selected column when the selection is in this row, else -1 */
  selectedCol: number;
  idPrefix: string;
  onSelect: (row: number, col: number) => void;
}

/** One row; memoized so that scrolling only renders rows that enter the window. */
const GridRow = memo(function GridRow({
  row,
  values,
  columns,
  masks,
  template,
  width,
  selectedCol,
  idPrefix,
  onSelect,
}: GridRowProps) {
  const colCount = columns.length;
  return (
    <tr
      aria-rowindex={row + 2}
      className={`rg-row${row % 2 === 1 ? " odd" : ""}`}
      style={{ top: HEADER_HEIGHT + row * ROW_HEIGHT, gridTemplateColumns: template, width }}
    >
      <th scope="row" aria-colindex={1} className="rg-num">
        {row + 1}
      </th>
      {columns.map((column, col) => {
        const value = values[col];
        const types = masks.get(row * colCount + col);
        const isNull = value === null || value === undefined;
        const text = cellText(value);
        const isSelected = selectedCol === col;
        let classes = "rg-cell";
        if (isNumericType(column.type)) classes += " num";
        if (isNull) classes += " null";
        if (types) classes += " masked";
        if (isSelected) classes += " selected";
        return (
          // biome-ignore lint/a11y/useKeyWithClickEvents: the grid (one tab stop, aria-activedescendant) handles keys
          // biome-ignore lint/a11y/useFocusableInteractive: cells are reached through the grid's active descendant
          <td
            // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
            key={col}
            id={cellIdOf(idPrefix, row, col)}
            // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: ARIA grid pattern on a table
            role="gridcell"
            aria-colindex={col + 2}
            aria-selected={isSelected}
            className={classes}
            data-masked={types?.join(" ")}
            title={text.length > 40 ? text.slice(0, 2000) : undefined}
            onClick={() => onSelect(row, col)}
          >
            {types && <span className="mask-tag">{types.map(maskLabel).join(" · ")}</span>}
            <span className="rg-text">
              {isNull ? "NULL" : text.length > 500 ? `${text.slice(0, 500)}…` : text}
            </span>
          </td>
        );
      })}
    </tr>
  );
});

export function ResultsGrid({
  result,
  label,
  summary,
}: {
  result: StatementResult;
  label: string;
  /** Shown at the left of the bar under the grid (row count, duration ...). */
  summary?: ReactNode;
}) {
  const gridId = useId();
  const scrollRef = useRef<HTMLDivElement>(null);
  const gridRef = useRef<HTMLTableElement>(null);
  const [viewportHeight, setViewportHeight] = useState(400);
  const [firstRow, setFirstRow] = useState(0);
  const [selected, setSelected] = useState<Cell | null>(null);
  const [copyNote, setCopyNote] = useState("");
  /** The lineage tooltip shown for a header: its column and where (fixed, so no scroll box clips it). */
  const [tip, setTip] = useState<{ col: number; left: number; top: number } | null>(null);
  const rowCount = result.rows.length;
  const colCount = result.columns.length;

  const masks = useMemo(() => maskIndex(result.masked, colCount), [result.masked, colCount]);
  const widths = useMemo(() => columnWidths(result, masks), [result, masks]);
  const numberWidth = Math.max(44, String(rowCount).length * 8 + 20);
  const template = `${numberWidth}px ${widths.map((w) => `${w}px`).join(" ")}`;
  const totalWidth = numberWidth + widths.reduce((sum, w) => sum + w, 0);
  const visibleRows = Math.ceil(viewportHeight / ROW_HEIGHT);
  const start = Math.max(0, firstRow - OVERSCAN);
  const end = Math.min(rowCount, firstRow + visibleRows + OVERSCAN);

  useEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setViewportHeight(element.clientHeight - HEADER_HEIGHT));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  // A new result starts at the top with nothing selected.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset keyed on the result itself
  useEffect(() => {
    setSelected(null);
    setFirstRow(0);
    if (scrollRef.current) {
      scrollRef.current.scrollTop = 0;
      scrollRef.current.scrollLeft = 0;
    }
  }, [result]);

  const onScroll = useCallback(() => {
    const element = scrollRef.current;
    if (!element) return;
    const next = Math.floor(element.scrollTop / ROW_HEIGHT);
    setFirstRow((current) => (current === next ? current : next));
  }, []);

  const scrollIntoView = useCallback(
    (cell: Cell) => {
      const element = scrollRef.current;
      if (!element) return;
      const top = cell.row * ROW_HEIGHT;
      const bodyHeight = element.clientHeight - HEADER_HEIGHT;
      if (top < element.scrollTop) element.scrollTop = top;
      else if (top + ROW_HEIGHT > element.scrollTop + bodyHeight) {
        element.scrollTop = top + ROW_HEIGHT - bodyHeight;
      }
      let left = numberWidth;
      for (let i = 0; i < cell.col; i++) left += widths[i] ?? 0;
      const width = widths[cell.col] ?? 0;
      if (left - numberWidth < element.scrollLeft) element.scrollLeft = left - numberWidth;
      else if (left + width > element.scrollLeft + element.clientWidth) {
        element.scrollLeft = left + width - element.clientWidth;
      }
    },
    [numberWidth, widths],
  );

  const copySelected = useCallback(async () => {
    if (!selected) return;
    const text = cellText(result.rows[selected.row]?.[selected.col]);
    const copied = await copyText(text);
    setCopyNote(copied ? "Copied" : "Copy failed");
    gridRef.current?.focus({ preventScroll: true });
    setTimeout(() => setCopyNote(""), 1500);
  }, [selected, result.rows]);

  const onKeyDown = (event: KeyboardEvent<HTMLTableElement>) => {
    if (rowCount === 0 || colCount === 0) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "c") {
      if (selected && !window.getSelection()?.toString()) {
        event.preventDefault();
        void copySelected();
      }
      return;
    }
    const current = selected ?? { row: 0, col: 0 };
    const page = Math.max(1, visibleRows - 1);
    let next: Cell | null = null;
    switch (event.key) {
      case "ArrowDown":
        next = { row: Math.min(rowCount - 1, current.row + (selected ? 1 : 0)), col: current.col };
        break;
      case "ArrowUp":
        next = { row: Math.max(0, current.row - 1), col: current.col };
        break;
      case "ArrowRight":
        next = { row: current.row, col: Math.min(colCount - 1, current.col + (selected ? 1 : 0)) };
        break;
      case "ArrowLeft":
        next = { row: current.row, col: Math.max(0, current.col - 1) };
        break;
      case "PageDown":
        next = { row: Math.min(rowCount - 1, current.row + page), col: current.col };
        break;
      case "PageUp":
        next = { row: Math.max(0, current.row - page), col: current.col };
        break;
      case "Home":
        next = event.ctrlKey || event.metaKey ? { row: 0, col: current.col } : { row: current.row, col: 0 };
        break;
      case "End":
        next =
          event.ctrlKey || event.metaKey
            ? { row: rowCount - 1, col: current.col }
            : { row: current.row, col: colCount - 1 };
        break;
      case "Escape":
        if (selected) {
          event.preventDefault();
          setSelected(null);
        }
        return;
      default:
        return;
    }
    event.preventDefault();
    setSelected(next);
    scrollIntoView(next);
  };

  const cellId = (cell: Cell) => cellIdOf(gridId, cell.row, cell.col);
  const selectCell = useCallback((row: number, col: number) => {
    setSelected({ row, col });
    gridRef.current?.focus({ preventScroll: true });
  }, []);
  const isSelectedVisible = selected !== null && selected.row >= start && selected.row < end;
  const rows = [];
  for (let row = start; row < end; row++) {
    rows.push(
      <GridRow
        key={row}
        row={row}
        values={result.rows[row] ?? EMPTY_ROW}
        columns={result.columns}
        masks={masks}
        template={template}
        width={totalWidth}
        selectedCol={selected?.row === row ? selected.col : -1}
        idPrefix={gridId}
        onSelect={selectCell}
      />,
    );
  }

  const selectedColumn = selected ? result.columns[selected.col] : undefined;
  return (
    <div className="rg-wrap">
      <div ref={scrollRef} className="rg" onScroll={onScroll}>
        <table
          ref={gridRef}
          className="rg-canvas"
          // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: ARIA grid pattern on a table
          role="grid"
          aria-label={label}
          aria-rowcount={rowCount + 1}
          aria-colcount={colCount + 1}
          aria-readonly="true"
          aria-activedescendant={isSelectedVisible && selected ? cellId(selected) : undefined}
          tabIndex={0}
          onKeyDown={onKeyDown}
          style={{ width: totalWidth, height: HEADER_HEIGHT + rowCount * ROW_HEIGHT }}
        >
          <thead className="rg-thead">
            <tr
              aria-rowindex={1}
              className="rg-head"
              style={{ gridTemplateColumns: template, width: totalWidth, height: HEADER_HEIGHT }}
            >
              <th scope="col" aria-colindex={1} className="rg-num">
                #
              </th>
              {result.columns.map((column, col) => (
                <th
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns may share a name; position is identity
                  key={col}
                  scope="col"
                  aria-colindex={col + 2}
                  className={`rg-hcell${isNumericType(column.type) ? " num" : ""}${column.lineage ? " lineage" : ""}`}
                  title={column.lineage ? undefined : `${column.name} (${column.type})`}
                  aria-describedby={tip?.col === col ? `${gridId}-tip` : undefined}
                  onMouseEnter={
                    column.lineage
                      ? (e) => {
                          const box = e.currentTarget.getBoundingClientRect();
                          setTip({ col, left: box.left, top: box.bottom + 4 });
                        }
                      : undefined
                  }
                  onMouseLeave={column.lineage ? () => setTip(null) : undefined}
                >
                  <span className="rg-hname">{column.name}</span>
                  <span className="rg-htype">
                    {column.type}
                    {column.lineage && (
                      <>
                        <span className="mask-tag" aria-hidden="true">
                          {maskLabel(column.lineage.type)}
                        </span>
                        <span className="rg-hidden-note">{lineageNote(column.lineage)}</span>
                      </>
                    )}
                  </span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{rows}</tbody>
        </table>
      </div>
      {tip && result.columns[tip.col]?.lineage && (
        <div
          id={`${gridId}-tip`}
          role="tooltip"
          className="lineage-tip"
          style={{ left: tip.left, top: tip.top }}
        >
          {lineageNote(result.columns[tip.col]!.lineage!)}
        </div>
      )}
      <div className="rg-footer small">
        {summary}
        <span className="rg-selection">
          <span className="muted">
            {selected && selectedColumn
              ? `Row ${(selected.row + 1).toLocaleString("en-US")}, ${selectedColumn.name}${
                  selectedColumn.lineage ? ` · ${lineageNote(selectedColumn.lineage)}` : ""
                }`
              : "Select a cell to copy it"}
          </span>
          <button
            type="button"
            className="btn small"
            onClick={() => void copySelected()}
            disabled={!selected}
            aria-keyshortcuts="Control+C"
          >
            Copy
          </button>
          <span role="status" className="copy-note">
            {copyNote}
          </span>
        </span>
      </div>
    </div>
  );
}
