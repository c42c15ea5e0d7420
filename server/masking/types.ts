// Types of the masking stage: the configuration callers hand in, what detection reports, and the
// internal shapes detectors share. No behaviour lives here.
import "server-only";

/** How a detected value is shown: `[EMAIL]`, `j***@example.com`, or `email_5f2a9c0d1e3b`. */
export type MaskStyle = "full" | "partial" | "pseudonym";

/**
 * A column always masked as `type`. `pattern` is a dot-separated glob matched right-aligned against
 * `connection.schema.table.column`: `ssn`, `users.ssn`, `public.users.ssn`, `*.password*`.
 * `*` matches any run of characters inside one segment; matching ignores case.
 */
export interface ColumnRule {
  pattern: string;
  type: string;
}

/** Masking settings of one connection. Treat a config as immutable once used: it is compiled once. */
export interface MaskingConfig {
  /** Detector types that run on free text; undefined means all of them. Column rules always apply. */
  enabledTypes?: readonly string[];
  /** Style per type; types not listed use `defaultStyle`. */
  styles?: Readonly<Record<string, MaskStyle>>;
  defaultStyle: MaskStyle;
  /** HMAC-SHA256 key for pseudonyms; required when any type is shown as a pseudonym. */
  pseudonymKey: string;
  columnRules: readonly ColumnRule[];
}

/** Where a value came from; table, schema, connection and type are optional. */
export interface ColumnRef {
  name: string;
  /** the PostgreSQL type name of the column (`timestamptz`, `text[]`...), when known */
  type?: string;
  table?: string;
  schema?: string;
  connection?: string;
  /** Mask every value of the column whole as this type, whatever its name: set by lineage (./lineage.ts). */
  maskAs?: string;
  /**
   * With maskAs: show only the type's label, never a partial form or a pseudonym (the value is computed from
   * the source, so its last digits or its pseudonym could still say something about the source).
   */
  labelOnly?: boolean;
  /**
   * JSON built from whole rows (`row_to_json(e)`, `json_agg(e)`): the keys whose values are masked whole, with
   * their types (lineage: the row's masked columns); the rest of the document is scanned as usual. A value of
   * this column that is not a JSON object or array is masked whole.
   */
  maskKeys?: Readonly<Record<string, string>>;
}

/** A detected value: its type and where it was in the original text (never the value itself). */
export interface Finding {
  type: string;
  start: number;
  end: number;
}

export interface MaskTextResult {
  text: string;
  findings: Finding[];
}

export interface MaskValueResult {
  value: unknown;
  types: string[];
}

/** One masked cell: row index, column index, type. A cell masked for two types appears twice. */
export type MaskedCell = [row: number, col: number, type: string];

export interface MaskRowsResult {
  rows: unknown[][];
  masked: MaskedCell[];
}

export interface StreamMaskerOptions {
  /** Longest ordinary tail held back waiting for more input (default 512 characters). */
  maxHoldBytes?: number;
  /** Called for each value masked, with offsets in the whole stream's input. */
  onFinding?: (finding: Finding) => void;
}

export interface StreamMasker {
  /** Feed a chunk; returns the masked text that is final so far (possibly empty). */
  push(chunk: string): string;
  /** End of input: returns everything still held, masked. */
  flush(): string;
}

export type DetectorCategory = "financial" | "contact" | "network" | "secret" | "national_id";

/** What the UI needs to list a detector. */
export interface DetectorInfo {
  type: string;
  label: string;
  category: DetectorCategory;
  /** How look-alikes are told apart: checksum, format, context keywords. */
  validation: string;
}

/** A detection before overlaps are resolved; `norm` is the canonical value pseudonyms are computed on. */
export interface Candidate {
  type: string;
  start: number;
  end: number;
  score: number;
  norm: string;
}

/** Per-call view detectors read: the text, where scanning starts, enabled types and the context hint. */
export interface ScanContext {
  readonly text: string;
  readonly from: number;
  readonly end: number;
  readonly hint: string;
  isOn(type: string): boolean;
  readonly out: Candidate[];
}
