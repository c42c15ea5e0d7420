// Client-side export of the shown result as CSV (RFC 4180 quoting, CRLF lines) or JSON (an array of objects
// keyed by column name). Exports carry exactly what the grid shows: the masked values the server sent.
import { cellText } from "./cell-format";
import type { StatementResult } from "./types";

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultToCsv(result: StatementResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(",")];
  for (const row of result.rows) {
    lines.push(result.columns.map((_, i) => csvField(cellText(row[i]))).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Column names made unique ("id", "id_2") so no value is lost in an object. */
function uniqueKeys(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let key = name;
    for (let n = 2; used.has(key); n++) key = `${name}_${n}`;
    used.add(key);
    return key;
  });
}

export function resultToJson(result: StatementResult): string {
  const keys = uniqueKeys(result.columns.map((c) => c.name));
  const objects = result.rows.map((row) => {
    const object: Record<string, unknown> = {};
    keys.forEach((key, i) => {
      object[key] = row[i] ?? null;
    });
    return object;
  });
  return `${JSON.stringify(objects, null, 2)}\n`;
}

/** Saves text as a file through a temporary link (no server round trip). */
export function downloadText(filename: string, mime: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.style.display = "none";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportFilename(connection: string, statementIndex: number, extension: string): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return `${connection}-${stamp}-result${statementIndex + 1}.${extension}`;
}

/** Copies text to the clipboard; falls back to a hidden textarea where the Clipboard API is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the older way
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  return copied;
}
