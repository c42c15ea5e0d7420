// How result values read as text (the grid, the clipboard and the exports agree), which column types align
// right, and the command tag a statement without rows shows ("UPDATE 3").
import type { MaskedCell, StatementResult } from "./types";

/** Text for a value: JSON for objects and arrays, "" for null (the grid shows NULL separately). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

const NUMERIC_TYPES = new Set([
  "int2",
  "int4",
  "int8",
  "smallint",
  "integer",
  "bigint",
  "float4",
  "float8",
  "real",
  "double precision",
  "numeric",
  "decimal",
  "money",
  "oid",
]);

export function isNumericType(type: string): boolean {
  return NUMERIC_TYPES.has(type.toLowerCase());
}

const COUNTED_COMMANDS = new Set(["INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "COPY", "FETCH", "MOVE"]);

/** "UPDATE 3", "CREATE TABLE": what psql would print for a statement without a row set. */
export function commandTag(result: StatementResult): string {
  const command = result.command.trim().toUpperCase() || "OK";
  return COUNTED_COMMANDS.has(command) ? `${command} ${result.rowCount}` : command;
}

/** Masked types per cell, keyed by row * columnCount + column. */
export function maskIndex(masked: MaskedCell[], columnCount: number): Map<number, string[]> {
  const index = new Map<number, string[]>();
  for (const [row, col, type] of masked) {
    const key = row * columnCount + col;
    const types = index.get(key);
    if (!types) index.set(key, [type]);
    else if (!types.includes(type)) types.push(type);
  }
  return index;
}

/** Short label of a mask type for the cell tag: "credit_card" -> "CARD", "email" -> "EMAIL". */
export function maskLabel(type: string): string {
  const short: Record<string, string> = { credit_card: "CARD", us_ssn: "SSN", phone_number: "PHONE" };
  return (short[type] ?? type).replace(/_/g, " ").toUpperCase();
}

/** What a lineage-masked column's tooltip says: its label and where it came from. */
export function lineageNote(lineage: {
  type: string;
  sources: string[];
  keys?: string[];
  reason?: string;
}): string {
  const label = maskLabel(lineage.type);
  if (lineage.keys)
    return `Keys ${lineage.keys.join(", ")} masked inside: from ${lineage.sources.join(", ")}`;
  if (lineage.reason)
    return lineage.sources.length > 0
      ? `Masked as ${label}: derived from ${lineage.sources.join(", ")}, and ${lineage.reason}`
      : `Masked as ${label}: ${lineage.reason}`;
  return `Masked as ${label}: derived from ${lineage.sources.join(", ")}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;
}
