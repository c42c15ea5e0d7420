// Masking values and result sets: column rules mask whole cells; everything else is scanned, with the
// column name as context. JSON (objects from jsonb, or strings holding a JSON document) is walked: a key
// like "password" masks its value, and nested strings are scanned with their key as context. Input is
// never mutated; unchanged rows are returned as they came.
import "server-only";

import { matchColumnRule } from "./column-rules";
import { type CompiledConfig, compileConfig } from "./config";
import { hintFromName } from "./detectors";
import { maskTextInScope, maskTextTypes, type TextScope, textScope } from "./mask-text";
import { renderWhole } from "./redact";
import type { ColumnRef, MaskedCell, MaskingConfig, MaskRowsResult, MaskValueResult } from "./types";

/** Integers shorter than this cannot hold any detectable value (the shortest is a 7-digit phone). */
const MIN_DETECTABLE_INTEGER = 1_000_000;

/**
 * PostgreSQL types whose values the database itself formats (true/false, dates, times, intervals, UUIDs):
 * they cannot hold a card number, an id, an address or a secret, so detectors do not scan them (what a
 * detector would "find" in `2026-01-05 12:34:56+00` is a false positive). Column rules still apply.
 * Numbers are not here: an integer or numeric column can hold a card number or a national id.
 */
const UNSCANNED_TYPES = new Set([
  "bool",
  "bool[]",
  "date",
  "date[]",
  "time",
  "timetz",
  "timestamp",
  "timestamp[]",
  "timestamptz",
  "interval",
  "uuid",
  "uuid[]",
  "tsrange",
  "tstzrange",
  "daterange",
]);

/**
 * Number types PostgreSQL prints as plain digits (with sign, point and exponent). Only a number's integer part
 * can be an identifier (a card or an id stored as a number); its fraction and exponent are a quantity. So a
 * value whose integer part has fewer than seven digits cannot hold a detectable value, as for
 * MIN_DETECTABLE_INTEGER, and is not scanned (`12345.6789012` is an amount, not a phone number).
 */
const NUMBER_TYPES = new Set(["int2", "int4", "int8", "numeric", "float4", "float8", "oid"]);
const MIN_DETECTABLE_DIGITS = 7;

/** The end of the run of digits in `s` from `from`. */
function digitsFrom(s: string, from: number): number {
  let j = from;
  while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  return j;
}

/** A number as PostgreSQL prints one (`-12`, `3.25`, `1.5e+20`) with fewer than seven integer digits. */
function isShortNumber(s: string): boolean {
  let i = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? 1 : 0; // - +
  const integerEnd = digitsFrom(s, i);
  if (integerEnd - i >= MIN_DETECTABLE_DIGITS) return false;
  i = integerEnd;
  if (s.charCodeAt(i) === 46) i = digitsFrom(s, i + 1); // .
  if (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69) {
    // e E, then an optional sign
    i++;
    if (s.charCodeAt(i) === 45 || s.charCodeAt(i) === 43) i++;
    i = digitsFrom(s, i);
  }
  return i === s.length && integerEnd > 0;
}

/** Distinct values remembered per column (repeated values are masked once); beyond this, no new ones. */
const VALUE_CACHE_LIMIT = 4096;
/** After this many distinct values, a column with fewer than one hit per eight of them is no longer cached. */
const PROBE_VALUES = 512;

interface CachedCell {
  value: unknown;
  types: string[];
}
const NO_TYPES: string[] = [];
/** A value that masking leaves as it is (no object kept per such value). */
const UNCHANGED: CachedCell = { value: undefined, types: [] };

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Masks every leaf of `value` as `type` (a column or key rule), keeping the shape of objects and arrays. */
function maskWholeValue(cc: CompiledConfig, value: unknown, type: string, types: string[]): unknown {
  if (value === null || value === undefined || typeof value === "boolean") return value;
  if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") {
    types.push(type);
    return renderWhole(cc, type, String(value));
  }
  if (Array.isArray(value)) return value.map((v) => maskWholeValue(cc, v, type, types));
  if (typeof value === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskWholeValue(cc, v, type, types);
    return out;
  }
  types.push(type);
  return renderWhole(cc, type, String(value));
}

/** A string that holds a JSON object or array, parsed; undefined otherwise. */
function parseJsonDocument(s: string): object | undefined {
  // Most cells start with a printable ASCII character other than { and [: not a document, and nothing to trim.
  const c0 = s.charCodeAt(0);
  if (c0 > 32 && c0 < 127 && c0 !== 123 && c0 !== 91) return undefined;
  const first = s.trimStart()[0];
  if (first !== "{" && first !== "[") return undefined;
  const last = s.trimEnd().at(-1);
  if ((first === "{" && last !== "}") || (first === "[" && last !== "]")) return undefined;
  try {
    const parsed: unknown = JSON.parse(s);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `scope`, when given, is textScope(cc, hint) looked up already (a result column's). */
function walk(cc: CompiledConfig, value: unknown, hint: string, types: string[], scope?: TextScope): unknown {
  switch (typeof value) {
    case "string": {
      if (value.length < 4) return value;
      // Most cells start with a printable ASCII character other than { and [: no document to look for.
      const c0 = value.charCodeAt(0);
      const doc = c0 > 32 && c0 < 127 && c0 !== 123 && c0 !== 91 ? undefined : parseJsonDocument(value);
      if (doc !== undefined) {
        const walked = walk(cc, doc, hint, types);
        return walked === doc ? value : JSON.stringify(walked);
      }
      return scope ? maskTextInScope(scope, value, types) : maskTextTypes(cc, value, hint, types);
    }
    case "number":
      if (!Number.isInteger(value) || Math.abs(value) < MIN_DETECTABLE_INTEGER) return value;
      return maskNumber(cc, value, String(value), hint, types, scope);
    case "bigint":
      return maskNumber(cc, value, String(value), hint, types, scope);
    case "object": {
      if (value === null) return value;
      if (Array.isArray(value)) {
        let copy: unknown[] | null = null;
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          const w = walk(cc, v, hint, types);
          if (w !== v) {
            copy ??= value.slice();
            copy[i] = w;
          }
        }
        return copy ?? value;
      }
      if (!isPlainObject(value)) return value;
      let copy: Record<string, unknown> | null = null;
      for (const [k, v] of Object.entries(value)) {
        const key = cc.keyInfo(k);
        const w = key.type ? maskWholeValue(cc, v, key.type, types) : walk(cc, v, key.hint, types);
        if (w !== v) {
          copy ??= { ...value };
          copy[k] = w;
        }
      }
      return copy ?? value;
    }
    default:
      return value;
  }
}

function maskNumber(
  cc: CompiledConfig,
  value: number | bigint,
  s: string,
  hint: string,
  types: string[],
  scope: TextScope | undefined,
): unknown {
  const masked = scope ? maskTextInScope(scope, s, types) : maskTextTypes(cc, s, hint, types);
  return masked === s ? value : masked;
}

const labelOnlyConfigs = new WeakMap<CompiledConfig, CompiledConfig>();

/** The config with every type shown as its full label (for values computed from a masked column). */
function labelsOnly(cc: CompiledConfig): CompiledConfig {
  let out = labelOnlyConfigs.get(cc);
  if (!out) {
    out = { ...cc, styleOf: () => "full" };
    labelOnlyConfigs.set(cc, out);
  }
  return out;
}

/**
 * A JSON document built from rows: the values of `keys` (its masked columns) masked whole as their types, only
 * the label shown; every other value scanned as any JSON is. Anything else in the column is masked whole.
 */
function maskKeyed(
  cc: CompiledConfig,
  value: unknown,
  keys: Readonly<Record<string, string>>,
  types: string[],
): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") {
    const doc = parseJsonDocument(value);
    if (doc !== undefined) return JSON.stringify(maskKeyed(cc, doc, keys, types));
  } else if (Array.isArray(value)) return value.map((v) => maskKeyed(cc, v, keys, types));
  else if (typeof value === "object" && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const type = Object.hasOwn(keys, k) ? keys[k] : undefined;
      if (type) out[k] = maskWholeValue(labelsOnly(cc), v, type, types);
      else {
        const key = cc.keyInfo(k);
        out[k] = key.type ? maskWholeValue(cc, v, key.type, types) : walk(cc, v, key.hint, types);
      }
    }
    return out;
  }
  const first = Object.values(keys)[0] ?? "masked";
  return maskWholeValue(labelsOnly(cc), value, first, types);
}

function columnHint(column: ColumnRef): string {
  return hintFromName(column.table ? `${column.table} ${column.name}` : column.name);
}

function distinct(types: string[]): string[] {
  return types.length <= 1 ? types : [...new Set(types)];
}

/** One shared list per single type found in a cell (most cells with a finding hold one value): read-only. */
const SINGLE_TYPES = new Map<string, string[]>();

/** The distinct types of `types` as a list the caller may keep (shared when it is one type: never mutate it). */
function foundList(types: string[]): string[] {
  if (types.length === 0) return NO_TYPES;
  if (types.length > 1 && types.some((t) => t !== types[0])) return [...new Set(types)];
  const type = types[0]!;
  let one = SINGLE_TYPES.get(type);
  if (one === undefined) {
    one = [type];
    if (SINGLE_TYPES.size >= 1024) SINGLE_TYPES.clear(); // types come from the config: a handful in practice
    SINGLE_TYPES.set(type, one);
  }
  return one;
}

/** Masks one value (scalar, JSON object, or string); `column` adds column rules and context. */
export function maskValue(value: unknown, cfg: MaskingConfig, column?: ColumnRef): MaskValueResult {
  const cc = compileConfig(cfg);
  const types: string[] = [];
  if (column?.maskKeys) {
    const masked = maskKeyed(cc, value, column.maskKeys, types);
    return { value: masked, types: distinct(types) };
  }
  const ruled =
    column?.maskAs ?? (column && cc.anyColumnRules ? matchColumnRule(cc.columnRules, column) : undefined);
  const masked = ruled
    ? maskWholeValue(column?.maskAs && column.labelOnly ? labelsOnly(cc) : cc, value, ruled, types)
    : walk(cc, value, column ? columnHint(column) : "", types);
  return { value: masked, types: distinct(types) };
}

/** Scanned strings handed to a collector instead of being masked here (see ResultMasker.maskRows). */
export type ScannedStringSink = (value: string, row: number, col: number) => void;

/**
 * Masks the cells of one result, column by column as maskRows describes; keeps per-column state (rules, hints,
 * repeated values) across the batches it is given. `cell` masks one value; a worker thread masking the scanned
 * strings of a batch (./pool.ts) uses the same state and gives the same output.
 */
export class ResultMasker {
  private readonly cc: CompiledConfig;
  private readonly ruled: (string | undefined)[];
  /** The config a ruled column renders with (label only for lineage of computed values). */
  private readonly ruledCc: CompiledConfig[];
  /** Lineage-masked columns hide true/false too (`salary > 100000` says something of a salary). */
  private readonly masksBooleans: boolean[];
  /** JSON built from rows: the keys masked whole (ColumnRef.maskKeys). */
  private readonly keys: (Readonly<Record<string, string>> | undefined)[];
  private readonly isScanned: boolean[];
  private readonly isNumber: boolean[];
  private readonly hints: string[];
  private readonly scopes: TextScope[];
  // Masking a scalar depends only on the value, the column's hint and the config: equal values in one
  // column mask alike, so each distinct string or number is scanned once.
  // A column whose values are mostly distinct (emails, ids) stops being cached after PROBE_VALUES: keeping
  // thousands of entries alive for a batch costs more (garbage collection) than the rare hit saves.
  private readonly seen: (Map<string | number | bigint, CachedCell> | undefined)[];
  private readonly hits: number[];
  private readonly types: string[] = [];
  /** The types found in the cell `cell` masked last (valid until the next call). */
  found: string[] = NO_TYPES;

  constructor(columns: readonly ColumnRef[], cfg: MaskingConfig) {
    const cc = compileConfig(cfg);
    this.cc = cc;
    this.ruled = columns.map(
      (c) => c.maskAs ?? (cc.anyColumnRules ? matchColumnRule(cc.columnRules, c) : undefined),
    );
    this.ruledCc = columns.map((c) => (c.maskAs && c.labelOnly ? labelsOnly(cc) : cc));
    this.masksBooleans = columns.map((c) => c.maskAs !== undefined);
    this.keys = columns.map((c) => c.maskKeys);
    this.isScanned = columns.map((c) => c.type === undefined || !UNSCANNED_TYPES.has(c.type));
    this.isNumber = columns.map((c) => c.type !== undefined && NUMBER_TYPES.has(c.type));
    this.hints = columns.map(columnHint);
    this.scopes = this.hints.map((hint) => textScope(cc, hint));
    this.seen = columns.map(() => new Map());
    this.hits = columns.map(() => 0);
  }

  /**
   * Whether `v` in column `c` is a string the detectors scan (no column rule, a scanned type, long enough, not a
   * short number): the cells a worker thread can mask, as strings in and out.
   */
  isScannedString(c: number, v: unknown): v is string {
    return (
      typeof v === "string" &&
      v.length >= 4 &&
      this.ruled[c] === undefined &&
      this.keys[c] === undefined &&
      this.isScanned[c] === true &&
      !(this.isNumber[c] === true && isShortNumber(v))
    );
  }

  /**
   * The masked form of `v` in column `c` (`v` itself when nothing is masked); `found` then lists the types
   * found. A ruled cell lists its type even when it already held its masked form (a second pass).
   */
  cell(c: number, v: unknown): unknown {
    this.found = NO_TYPES;
    if (v === null || v === undefined) return v;
    const keys = this.keys[c];
    if (keys) {
      this.types.length = 0;
      const w = maskKeyed(this.cc, v, keys, this.types);
      this.found = foundList(this.types);
      return w;
    }
    const rule = this.ruled[c];
    if (typeof v === "boolean") {
      if (!rule || this.masksBooleans[c] !== true) return v;
      this.found = foundList([rule]);
      return renderWhole(labelsOnly(this.cc), rule, String(v));
    }
    const types = this.types;
    if (rule) {
      types.length = 0;
      const w = maskWholeValue(this.ruledCc[c] ?? this.cc, v, rule, types);
      this.found = foundList(types);
      return w;
    }
    if (this.isScanned[c] === false) return v;
    if (this.isNumber[c] === true && typeof v === "string" && isShortNumber(v)) return v;
    const cache = typeof v === "object" ? undefined : this.seen[c];
    const hit = cache?.get(v as string | number | bigint);
    if (hit === UNCHANGED) {
      this.hits[c]!++;
      return v;
    }
    if (hit) {
      this.hits[c]!++;
      this.found = hit.types;
      return hit.value;
    }
    // Emptied only when it holds something: setting an array's length is a runtime call, and most cells find nothing.
    if (types.length !== 0) types.length = 0;
    const w = walk(this.cc, v, this.hints[c] ?? "", types, this.scopes[c]);
    const found = foundList(types);
    if (cache) {
      if (cache.size < VALUE_CACHE_LIMIT)
        cache.set(v as string | number | bigint, w === v ? UNCHANGED : { value: w, types: found });
      if (cache.size === PROBE_VALUES && this.hits[c]! * 8 < PROBE_VALUES) this.seen[c] = undefined;
    }
    if (w !== v) this.found = found;
    return w;
  }

  /**
   * maskRows over `rows` with this masker's state. With `scannedStrings`, cells for which isScannedString holds
   * are handed to it (row numbers within `rows`) instead of being masked here, and stay as they are.
   */
  maskRows(
    rows: readonly unknown[][],
    options: { inPlace?: boolean; rowOffset?: number; scannedStrings?: ScannedStringSink } = {},
  ): MaskRowsResult {
    const inPlace = options.inPlace === true;
    const rowOffset = options.rowOffset ?? 0;
    const sink = options.scannedStrings;
    const out: unknown[][] = new Array(rows.length);
    const masked: MaskedCell[] = [];
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      let copy: unknown[] | null = null;
      for (let c = 0; c < row.length; c++) {
        const v = row[c];
        if (v === null || v === undefined || (typeof v === "boolean" && this.masksBooleans[c] !== true))
          continue;
        if (sink !== undefined && this.isScannedString(c, v)) {
          sink(v, r, c);
          continue;
        }
        const w = this.cell(c, v);
        if (w !== v) {
          copy ??= inPlace ? row : row.slice();
          copy[c] = w;
        }
        for (const t of this.found) masked.push([r + rowOffset, c, t]);
      }
      out[r] = copy ?? row;
    }
    return { rows: out, masked };
  }
}

/** Which values changed (indexes into the job's values), their masked form and the types found in each. */
export interface MaskedChunk {
  changed: Int32Array<ArrayBuffer>;
  shown: string[];
  types: string[][];
}

/** Masks `values` (each of column `cols[i]`) with `masker`: the part of maskRows a worker does. */
export function maskChunk(
  masker: ResultMasker,
  values: readonly string[],
  cols: ArrayLike<number>,
): MaskedChunk {
  const changed: number[] = [];
  const shown: string[] = [];
  const types: string[][] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const w = masker.cell(cols[i]!, v);
    if (w === v) continue;
    changed.push(i);
    shown.push(w as string);
    types.push(masker.found);
  }
  return { changed: Int32Array.from(changed), shown, types };
}

/**
 * Masks a result set. `masked` lists each masked cell once per type found in it, so the console can mark
 * cells and the recorder can note what was hidden.
 */
export function maskRows(
  columns: readonly ColumnRef[],
  rows: readonly unknown[][],
  cfg: MaskingConfig,
  options: {
    /** write masked values into the given rows (their owner no longer needs the originals) instead of copies */
    inPlace?: boolean;
    /** added to the row numbers in `masked` (the rows are a batch that starts there in a longer result) */
    rowOffset?: number;
  } = {},
): MaskRowsResult {
  return new ResultMasker(columns, cfg).maskRows(rows, options);
}
