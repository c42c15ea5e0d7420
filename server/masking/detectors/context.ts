// Context checks shared by the detector families: keywords shortly before a value (or in the column or
// JSON key the value came from), words that rule a value out, and token boundary tests.
import "server-only";

import type { ScanContext } from "../types";
import { DETECTOR_TYPES, KEYWORDS } from "./catalog";

/** How far back (in characters) keywords are looked for. Also bounds what the stream masker must keep. */
export const CONTEXT_WINDOW = 48;

export function windowBefore(sc: ScanContext, start: number, size = CONTEXT_WINDOW): string {
  return sc.text.slice(Math.max(0, start - size), start);
}

/**
 * Whether each type's keywords appear in a hint, remembered per hint: a result's columns each have one, and the
 * same few are asked about cell after cell.
 */
const hintKeywords = new Map<string, Map<string, boolean>>();
const HINTS_KEPT = 256;

/** The hint asked about last and its answers (a cell asks about one hint for every type it tries). */
let lastHint = "";
let lastKnown: Map<string, boolean> | undefined;

function hintHasKeyword(hint: string, type: string, re: RegExp): boolean {
  let known = hint === lastHint ? lastKnown : hintKeywords.get(hint);
  if (known === undefined) {
    if (hintKeywords.size >= HINTS_KEPT) hintKeywords.clear();
    known = new Map();
    hintKeywords.set(hint, known);
  }
  lastHint = hint;
  lastKnown = known;
  let has = known.get(type);
  if (has === undefined) {
    has = re.test(hint);
    known.set(type, has);
  }
  return has;
}

/** True when a keyword of `type` appears in `hint` (a column or key name turned into words). */
export function hintHasContext(hint: string, type: string): boolean {
  const re = KEYWORDS.get(type);
  return re !== undefined && hint !== "" && hintHasKeyword(hint, type, re);
}

/** True when a keyword of `type` appears in the window before `start` or in the caller's hint. */
export function hasContext(sc: ScanContext, type: string, start: number): boolean {
  const re = KEYWORDS.get(type);
  if (!re) return false;
  if (sc.hint !== "" && hintHasKeyword(sc.hint, type, re)) return true;
  return start > 0 && re.test(contextWindow(sc, start));
}

const MASKED_MARK = /\[[A-Z0-9_]+\]|[a-z][a-z0-9_]*_[0-9a-f]{12}(?![0-9a-z])|\*{3,}/g;

/**
 * The text shortly before `start` that counts as context: it stops at the last masked value (label,
 * pseudonym, `***`). Masking shortens values, so without this stop a second pass would see keywords
 * the first pass found too far away.
 */
export function contextWindow(sc: ScanContext, start: number): string {
  const w = windowBefore(sc, start);
  if (!w.includes("[") && !w.includes("_") && !w.includes("***")) return w;
  let cut = 0;
  MASKED_MARK.lastIndex = 0;
  for (let m = MASKED_MARK.exec(w); m !== null; m = MASKED_MARK.exec(w)) cut = m.index + m[0].length;
  return w.slice(cut);
}

/** Turns a column name or JSON key into words: `customerSSN_hash` -> `customer ssn hash`. */
export function hintFromName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_\-.\s]+/g, " ")
    .toLowerCase()
    .trim();
}

export const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
export const isUpperCode = (c: number): boolean => c >= 65 && c <= 90;
export const isLowerCode = (c: number): boolean => c >= 97 && c <= 122;
export const isAlnumCode = (c: number): boolean => isDigitCode(c) || isUpperCode(c) || isLowerCode(c);
/** ASCII letters, digits and underscore: characters that glue a value to a longer word. */
export const isWordCode = (c: number): boolean => isAlnumCode(c) || c === 95;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences start with ESC.
const CSI = /\x1b\[[0-9;?]*[@-~]/y;

/** End of the ANSI CSI sequence starting at `esc`, or -1. */
export function csiEnd(s: string, esc: number): number {
  CSI.lastIndex = esc;
  return CSI.test(s) ? CSI.lastIndex : -1;
}

/** True when an ANSI CSI sequence (colour, cursor) ends exactly at `i`. */
export function csiEndsAt(s: string, i: number): boolean {
  const esc = escBefore(s, i, 24);
  return esc !== -1 && csiEnd(s, esc) === i;
}

/** Index of the last ESC in the `within` characters before `i`, or -1 (bounded: never scans far). */
export function escBefore(s: string, i: number, within: number): number {
  for (let j = i - 1; j >= 0 && j >= i - within; j--) if (s.charCodeAt(j) === 27) return j;
  return -1;
}

/** A value may start at `i`: start of text, a non-word character, or the end of a colour sequence. */
export function isBoundaryBefore(s: string, i: number): boolean {
  return i === 0 || !isWordCode(s.charCodeAt(i - 1)) || csiEndsAt(s, i);
}

const PSEUDONYM_INSIDE = new RegExp(`(?:${DETECTOR_TYPES.join("|")})_[0-9a-f]{12}(?![0-9a-f])`);

/** Some part of the value is the output of a previous masking pass: the value is not judged again. */
export function containsMasked(value: string): boolean {
  return (
    value.includes("***") ||
    /\[[A-Z0-9_]+\]/.test(value) ||
    (value.includes("_") && PSEUDONYM_INSIDE.test(value))
  );
}
