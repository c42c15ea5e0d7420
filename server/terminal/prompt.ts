/**
 * Reads the command line the user is about to run from the gateway's own emulation of their screen
 * (@xterm/headless). When the user starts typing, the text left of the cursor on that line is taken as the
 * prompt (an anchor); at Enter the text after that prompt up to the end of the cursor's line is the command,
 * so edits, history recall and tab completion count as they appear on screen. Also keeps a model of what
 * was typed, for when the screen does not show it (no echo). Pure apart from reading the terminal buffer.
 */
import type { IBuffer, Terminal } from "@xterm/headless";

export interface PromptAnchor {
  /** Absolute buffer row where the prompt's logical line starts. */
  startRow: number;
  /** Absolute row and column of the cursor when typing began. */
  row: number;
  col: number;
  /** Text of the logical line left of the cursor: the prompt. */
  prompt: string;
}

/** How far up (rows) the command line is looked for; longer lines are read from the cursor's line only. */
const MAX_ROWS = 200;

function rowText(buffer: IBuffer, row: number): string {
  const line = buffer.getLine(row);
  if (!line) return "";
  const next = buffer.getLine(row + 1);
  // A row continued on the next one is full width; only a logical line's last row is trimmed.
  return line.translateToString(!next?.isWrapped);
}

function logicalStart(buffer: IBuffer, row: number): number {
  let start = row;
  while (start > 0 && buffer.getLine(start)?.isWrapped && row - start < MAX_ROWS) start--;
  return start;
}

function logicalEnd(buffer: IBuffer, row: number): number {
  let end = row;
  while (buffer.getLine(end + 1)?.isWrapped && end - row < MAX_ROWS) end++;
  return end;
}

/** Text of rows [from, to], wrapped rows joined directly and separate lines by "\n". */
function textOf(buffer: IBuffer, from: number, to: number, fromCol = 0): string {
  let out = "";
  for (let row = from; row <= to; row++) {
    const line = buffer.getLine(row);
    if (!line) continue;
    if (row > from && !line.isWrapped) out += "\n";
    const text = rowText(buffer, row);
    out += row === from ? text.slice(fromCol) : text;
  }
  return out;
}

export function isAlternateScreen(term: Terminal): boolean {
  return term.buffer.active.type === "alternate";
}

/** Where the user starts typing: the cursor, and the prompt left of it. */
export function captureAnchor(term: Terminal): PromptAnchor {
  const buffer = term.buffer.active;
  const row = buffer.baseY + buffer.cursorY;
  const col = buffer.cursorX;
  const startRow = logicalStart(buffer, row);
  const prompt = textOf(buffer, startRow, row).slice(0, (row - startRow) * term.cols + col);
  return { startRow, row, col, prompt: prompt.replace(/\n/g, "") };
}

function trimLines(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
}

/**
 * The command line on screen now: after the prompt, to the end of the cursor's logical line. The prompt is
 * looked for on the nearest line at or above the cursor (a completion list or Ctrl-L redraws it lower down);
 * lines between it and the cursor belong to the command (a multi-line paste). Failing that, the anchor's
 * position is used, and failing that the cursor's line.
 */
export function readCommandLine(term: Terminal, anchor: PromptAnchor | undefined): string {
  const buffer = term.buffer.active;
  const cursorRow = buffer.baseY + buffer.cursorY;
  const end = logicalEnd(buffer, cursorRow);
  const cursorStart = logicalStart(buffer, cursorRow);
  if (anchor && anchor.prompt.trim() !== "") {
    const lowest = Math.max(0, Math.min(anchor.startRow, cursorStart), cursorRow - MAX_ROWS);
    for (let row = cursorStart; row >= lowest; row--) {
      if (buffer.getLine(row)?.isWrapped) continue;
      const text = textOf(buffer, row, end);
      if (text.startsWith(anchor.prompt)) return trimLines(text.slice(anchor.prompt.length));
    }
  }
  if (anchor && anchor.row <= cursorRow && cursorRow - anchor.row <= MAX_ROWS) {
    const prefix = textOf(buffer, anchor.startRow, anchor.row).slice(
      0,
      (anchor.row - anchor.startRow) * term.cols + anchor.col,
    );
    if (prefix.replace(/\n/g, "") === anchor.prompt)
      return trimLines(textOf(buffer, anchor.row, end, anchor.col));
  }
  const line = textOf(buffer, cursorStart, end);
  if (anchor && line.startsWith(anchor.prompt)) return trimLines(line.slice(anchor.prompt.length));
  return trimLines(line);
}

/**
 * What the user typed since the prompt, as far as it can be followed from keystrokes alone: printable
 * text, backspace, Ctrl-U, Ctrl-W and bracketed paste. Cursor keys, Tab, history and other control keys
 * make it unknown (the screen is then the only source).
 */
export class TypedLine {
  text = "";
  isKnown = true;
  private inPaste = false;

  reset() {
    this.text = "";
    this.isKnown = true;
    this.inPaste = false;
  }

  feed(data: string) {
    for (let i = 0; i < data.length; i++) {
      const c = data[i] ?? "";
      if (data.startsWith("\u001b[200~", i)) {
        this.inPaste = true;
        i += 5;
        continue;
      }
      if (data.startsWith("\u001b[201~", i)) {
        this.inPaste = false;
        i += 5;
        continue;
      }
      const code = c.charCodeAt(0);
      if (this.inPaste && (c === "\r" || c === "\n")) this.text += "\n";
      else if (code === 0x7f || code === 0x08) this.text = this.text.slice(0, -1);
      else if (code === 0x15) this.text = "";
      else if (code === 0x17) this.text = this.text.replace(/\S*\s*$/, "");
      else if (code < 0x20 || c === "\u001b") this.isKnown = false;
      else this.text += c;
    }
  }
}
