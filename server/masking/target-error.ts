// Masking a target's error before anyone reads it: the message, detail and hint pass the detectors like result
// cells, and the values PostgreSQL quotes from the data are masked by what they are, not by whether a detector
// recognises them:
// - a data error (SQLSTATE class 22: `invalid input syntax for type integer: "..."`) quotes the value that
//   failed; nothing says which column it came from, so the quoted text is always masked (its position still
//   points at the expression);
// - a key (`Key (ssn)=(...) already exists`, foreign keys, exclusion, partition keys) names its columns: a value of
//   a column a rule masks (in the error's table, or the other table a foreign key's detail names) is masked whole
//   with the rule's type, the others pass the detectors, unless the statement reads another table (then a value
//   may derive from a masked column there, and none is shown);
// - a failing row (`Failing row contains (...)`, check and not-null constraints) is matched to the table's columns
//   the caller looked up; when they are unknown or the values cannot be told apart, every value is masked.
// Not responsible for finding the table's columns (the caller asks the target) nor for where the error goes.
import "server-only";

import { matchColumnRule } from "./column-rules";
import { compileConfig } from "./config";
import { maskText } from "./mask-text";
import { fullLabel } from "./redact";
import type { MaskingConfig } from "./types";

export interface TargetErrorParts {
  message: string;
  detail?: string;
  hint?: string;
  sqlState?: string;
  /** schema and table the error is about, as the target reports them */
  schema?: string;
  table?: string;
}

export interface TargetErrorContext {
  connection: string;
  /** the table's columns in order (attnum), for a failing row; undefined when unknown */
  tableColumns?: readonly string[];
  /**
   * Tables the failing statement names. When it names one besides the error's table (`INSERT INTO grades SELECT
   * salary + 1 FROM employees`), a key's or row's value may be derived from a masked column there, which no rule
   * on the error's table covers: then values no rule masks are not shown either.
   */
  statementTables?: readonly string[];
}

/** What replaces a quoted value whose source is not known. */
export const VALUE_LABEL = fullLabel("value");

/** Whether the error can quote a whole row (check and not-null constraints): the caller then looks up columns. */
export function quotesFailingRow(detail: string | undefined): boolean {
  return detail !== undefined && FAILING_ROW.test(detail);
}

const FAILING_ROW = /^Failing row contains \((.*)\)\.$/s;
const PARTITION_ROW = /^Partition key of the failing row contains \((.+?)\) = \((.*)\)\.$/s;
const KEY_FORMS: RegExp[] = [
  /^Key \((.+?)\)=\((.*)\) (already exists\.|is duplicated\.)$/s,
  /^Key \((.+?)\)=\((.*)\) (is not present in table ".*"\.|is still referenced from table ".*"\.)$/s,
];
const KEY_CONFLICT = /^Key \((.+?)\)=\((.*)\) conflicts with existing key \((.+?)\)=\((.*)\)\.$/s;
const PLAIN_COLUMN = /^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$/;

function unquoteIdent(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
}

/** Masks an error's texts; `types` lists what was masked (for the record), never a value. */
export function maskTargetError(
  parts: TargetErrorParts,
  cfg: MaskingConfig,
  ctx: TargetErrorContext,
): { message: string; detail?: string; hint?: string; types: string[] } {
  const types = new Set<string>();
  const cc = compileConfig(cfg);
  const detectors = (text: string, hint = "") => {
    const out = maskText(text, cfg, hint ? { context: hint } : {});
    for (const f of out.findings) types.add(f.type);
    return out.text;
  };
  /** Tables a key's columns may belong to: the error's own, and one its detail names (a foreign key's other end). */
  const tables = [parts.table];
  const columnType = (column: string) => {
    if (!cc.anyColumnRules) return undefined;
    for (const table of tables) {
      const ruled = matchColumnRule(cc.columnRules, {
        name: column,
        ...(table && { table }),
        ...(parts.schema && { schema: parts.schema }),
        connection: ctx.connection,
      });
      if (ruled) return ruled;
    }
    return undefined;
  };

  const lastSegment = (name: string) => name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  const readsOtherTables =
    ctx.statementTables?.some((t) => lastSegment(t) !== (parts.table ?? "").toLowerCase()) ?? false;

  /** A list of values PostgreSQL joined with ", " for these columns (undefined: columns unknown). */
  const maskValues = (columns: readonly string[] | undefined, values: string): string => {
    const pieces = values.split(", ");
    const known = columns?.every((c) => PLAIN_COLUMN.test(c)) ?? false;
    if (!columns || !known || pieces.length !== columns.length) {
      // Which value belongs to which column cannot be told: none is shown.
      types.add("value");
      return pieces.map(() => VALUE_LABEL).join(", ");
    }
    return pieces
      .map((value, i) => {
        const column = unquoteIdent(columns[i]!);
        const ruled = columnType(column);
        if (ruled) {
          types.add(ruled);
          return fullLabel(ruled);
        }
        if (readsOtherTables) {
          types.add("value");
          return VALUE_LABEL;
        }
        return detectors(value, column);
      })
      .join(", ");
  };
  const keyColumns = (list: string) => list.split(", ");

  const maskDetail = (detail: string): string => {
    const conflict = KEY_CONFLICT.exec(detail);
    if (conflict) {
      const [, cols, vals, cols2, vals2] = conflict as unknown as [string, string, string, string, string];
      return `Key (${cols})=(${maskValues(keyColumns(cols), vals)}) conflicts with existing key (${cols2})=(${maskValues(keyColumns(cols2), vals2)}).`;
    }
    for (const form of KEY_FORMS) {
      const m = form.exec(detail);
      if (m) {
        const [, cols, vals, rest] = m as unknown as [string, string, string, string];
        // `INSERT INTO grades SELECT salary ...`: the value is judged by the referenced table's rules too (a
        // column of the same name there), as the row's own table may have none.
        const other = /table "((?:[^"]|"")+)"/.exec(rest)?.[1];
        if (other) tables.push(other.replaceAll('""', '"'));
        return `Key (${cols})=(${maskValues(keyColumns(cols), vals)}) ${detectors(rest)}`;
      }
    }
    const partition = PARTITION_ROW.exec(detail);
    if (partition) {
      const [, cols, vals] = partition as unknown as [string, string, string];
      return `Partition key of the failing row contains (${cols}) = (${maskValues(keyColumns(cols), vals)}).`;
    }
    const row = FAILING_ROW.exec(detail);
    if (row) return `Failing row contains (${maskValues(ctx.tableColumns, row[1]!)}).`;
    // Any other detail that quotes a key or a row, in a form not known here, shows none of it.
    if (/\bkey \(|failing row/i.test(detail)) {
      types.add("value");
      return detail.replace(/\(.*\)/s, `(${VALUE_LABEL})`);
    }
    return maskDataError(detail);
  };

  /** In a data error, whatever is quoted is a value from the statement or the data: it is never shown. */
  const maskDataError = (text: string): string => {
    if (!parts.sqlState?.startsWith("22")) return detectors(text);
    const first = text.indexOf('"');
    const last = text.lastIndexOf('"');
    if (first < 0 || last <= first) return detectors(text);
    types.add("value");
    return `${detectors(text.slice(0, first))}"${VALUE_LABEL}"${detectors(text.slice(last + 1))}`;
  };

  const message = maskDataError(parts.message);
  const detail = parts.detail === undefined ? undefined : maskDetail(parts.detail);
  // A hint names settings and columns, not values ("Perhaps you need a different "datestyle" setting").
  const hint = parts.hint === undefined ? undefined : detectors(parts.hint);
  return {
    message,
    ...(detail !== undefined && { detail }),
    ...(hint !== undefined && { hint }),
    types: [...types],
  };
}
