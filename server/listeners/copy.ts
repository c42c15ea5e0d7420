/**
 * COPY through the listener, the protocol side. `COPY ... TO STDOUT` is read as what it is, the SELECT of the
 * same columns (`COPY t (a, b) TO STDOUT` is `SELECT a, b FROM ONLY t`, `COPY (query) TO STDOUT` is the query),
 * so the pipeline decides, masks and records it exactly as that SELECT; this module finds that SELECT (with
 * PostgreSQL's own parser and scanner) and writes rows in COPY's text or CSV format. `COPY ... FROM STDIN` is
 * recognised here (its text and data go to the target as they are, decided and loaded by the pipeline's
 * startCopyFromStdin / decideCopyFromStdin through copy-stream.ts). Not responsible for deciding, masking or
 * recording anything, nor for COPY to or from a file or program (the pipeline refuses those as dangerous).
 */
import "server-only";
import { type CopyStmt, type DefElem, loadModule, type Node, parseSync, scanSync } from "libpg-query";

export interface CopyFormat {
  csv: boolean;
  delimiter: string;
  null: string;
  header: boolean;
  quote: string;
  escape: string;
}

export type CopyCommand =
  | { direction: "out"; select: string; format: CopyFormat }
  | { direction: "in"; columns: number; binary: boolean }
  | { refused: string };

/** Options of COPY the listener does not write or read (yet): refused with 0A000 naming them. */
const UNSUPPORTED_OPTIONS = new Set([
  "force_quote",
  "force_not_null",
  "force_null",
  "encoding",
  "freeze",
  "default",
]);

const LEADING = /^(?:\s|--[^\n]*(?:\n|$)|\/\*(?:[^*]|\*(?!\/))*\*\/)*/;

/**
 * The COPY a simple query asks for, when it is one COPY from STDIN or to STDOUT; undefined for anything else
 * (other statements, several statements, COPY with a file or a program, input the parser rejects: the pipeline
 * decides those as it does any input).
 */
export async function copyCommand(text: string): Promise<CopyCommand | undefined> {
  if (!/^copy\b/i.test(text.replace(LEADING, ""))) return undefined;
  await loadModule();
  let statements: { stmt?: Node }[];
  try {
    statements = parseSync(text).stmts ?? [];
  } catch {
    return undefined;
  }
  const [only] = statements;
  const copy =
    statements.length === 1 && only?.stmt && "CopyStmt" in only.stmt ? only.stmt.CopyStmt : undefined;
  if (!copy || copy.filename !== undefined || copy.is_program) return undefined;
  // COPY FROM STDIN goes to the target as it is, its data too: every option PostgreSQL accepts is the target's.
  if (copy.is_from) return { direction: "in", columns: copy.attlist?.length ?? 0, binary: isBinary(copy) };
  const format = copyFormat(copy.options ?? []);
  if ("refused" in format) return format;
  const select = copy.query ? parenthesizedQuery(text) : relationSelect(copy);
  if (!select) return { refused: "the gateway could not find the query of this COPY" };
  return { direction: "out", select, format };
}

function copyFormat(options: Node[]): CopyFormat | { refused: string } {
  const format: CopyFormat = {
    csv: false,
    delimiter: "\t",
    null: "\\N",
    header: false,
    quote: '"',
    escape: '"',
  };
  let delimiter: string | undefined;
  let nullText: string | undefined;
  for (const option of options) {
    const o = (option as { DefElem?: DefElem }).DefElem;
    if (!o?.defname) continue;
    const name = o.defname;
    const value = stringOf(o.arg);
    if (UNSUPPORTED_OPTIONS.has(name))
      return { refused: `COPY option ${name.toUpperCase()} is not supported through the gateway` };
    if (name === "format") {
      const kind = value?.toLowerCase();
      if (kind === "binary")
        return { refused: "COPY in binary format is not supported through the gateway: use text or CSV" };
      if (kind !== "text" && kind !== "csv") return { refused: `COPY format "${value}" not recognized` };
      format.csv = kind === "csv";
    } else if (name === "header") {
      const on = booleanOf(o.arg);
      if (on === undefined) return { refused: "COPY HEADER takes a boolean through the gateway" };
      format.header = on;
    } else if (name === "delimiter" && value !== undefined) delimiter = value;
    else if (name === "null" && value !== undefined) nullText = value;
    else if (name === "quote" && value !== undefined) format.quote = value;
    else if (name === "escape" && value !== undefined) format.escape = value;
    else return { refused: `COPY option ${name.toUpperCase()} is not supported through the gateway` };
  }
  format.delimiter = delimiter ?? (format.csv ? "," : "\t");
  format.null = nullText ?? (format.csv ? "" : "\\N");
  if ([format.delimiter, format.quote, format.escape].some((c) => Buffer.byteLength(c) !== 1)) {
    return { refused: "COPY delimiter, quote and escape must be single one-byte characters" };
  }
  return format;
}

function isBinary(copy: CopyStmt): boolean {
  return (copy.options ?? []).some((option) => {
    const o = (option as { DefElem?: DefElem }).DefElem;
    return o?.defname === "format" && stringOf(o.arg)?.toLowerCase() === "binary";
  });
}

function stringOf(arg: Node | undefined): string | undefined {
  if (!arg) return undefined;
  return "String" in arg ? arg.String.sval : undefined;
}

function booleanOf(arg: Node | undefined): boolean | undefined {
  if (!arg) return true;
  if ("Boolean" in arg) return arg.Boolean.boolval === true;
  if ("Integer" in arg) return (arg.Integer.ival ?? 0) !== 0;
  const text = stringOf(arg)?.toLowerCase();
  if (text && ["true", "on", "yes", "1"].includes(text)) return true;
  if (text && ["false", "off", "no", "0"].includes(text)) return false;
  return undefined;
}

/** The text between COPY's first "(" and its matching ")", found with PostgreSQL's scanner (quotes, comments). */
function parenthesizedQuery(text: string): string | undefined {
  const bytes = Buffer.from(text, "utf8");
  let depth = 0;
  let start = -1;
  for (const token of scanSync(text).tokens) {
    if (token.text === "(" && token.tokenName === "ASCII_40") {
      if (depth++ === 0) start = token.end;
    } else if (token.text === ")" && token.tokenName === "ASCII_41" && --depth === 0) {
      return bytes.subarray(start, token.start).toString("utf8");
    }
  }
  return undefined;
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** COPY t (a, b) TO STDOUT reads the table's own rows (not its children's): SELECT a, b FROM ONLY t. */
function relationSelect(copy: CopyStmt): string | undefined {
  const relation = copy.relation;
  if (!relation?.relname) return undefined;
  const columns = (copy.attlist ?? []).map((c) => ("String" in c ? c.String.sval : undefined));
  if (columns.some((c) => c === undefined)) return undefined;
  const table = [relation.catalogname, relation.schemaname, relation.relname]
    .filter((p): p is string => p !== undefined && p !== "")
    .map(quoteIdentifier)
    .join(".");
  const list = columns.length > 0 ? columns.map((c) => quoteIdentifier(c ?? "")).join(", ") : "*";
  return `SELECT ${list} FROM ONLY ${table}`;
}

/** One row in COPY's format: text (backslash escapes, \N) or CSV (quoted where needed). */
export function copyRow(values: readonly (string | null)[], format: CopyFormat): string {
  const single = values.length === 1;
  const fields = values.map((v) => (format.csv ? csvField(v, format, single) : textField(v, format)));
  return `${fields.join(format.delimiter)}\n`;
}

function textField(value: string | null, format: CopyFormat): string {
  if (value === null) return format.null;
  let out = "";
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (ch === format.delimiter) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/** As PostgreSQL's CopyAttributeOutCSV: "\." is quoted only as a row's single value (it would end the data). */
function csvField(value: string | null, format: CopyFormat, single: boolean): string {
  if (value === null) return format.null;
  const needsQuotes =
    value === format.null ||
    (single && value === "\\.") ||
    value.includes(format.delimiter) ||
    value.includes(format.quote) ||
    value.includes("\n") ||
    value.includes("\r");
  if (!needsQuotes) return value;
  let out = "";
  for (const ch of value) {
    if (ch === format.quote || ch === format.escape) out += format.escape;
    out += ch;
  }
  return `${format.quote}${out}${format.quote}`;
}
