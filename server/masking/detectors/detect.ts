// Runs the detector families over one segment of text and resolves overlapping detections. A cheap
// character scan first decides which families can possibly match, so plain text (no digits, no @, no
// separators) costs one pass. Segment semantics (what `from` means, why look-backs are bounded) are
// explained in ../mask-text.ts.
import "server-only";

import type { Candidate, ScanContext } from "../types";
import { scanAlnum } from "./alnum";
import { scanAddresses, scanEmail, scanUrlCredentials } from "./network";
import { scanNumeric } from "./numeric";
import { ASSIGN_LOOKBACK, scanAssignments, scanHighEntropy, scanPrefixed } from "./secrets";

/** Above this length the character census is skipped: every family runs. */
const FEATURE_SCAN_LIMIT = 512;

/** Shortest text any prefixed token or Bearer/Basic credential can be. */
const MIN_PREFIXED = 14;

export interface DetectOptions {
  isOn(type: string): boolean;
  hint: string;
  /** false: skip only by digits, dashes, `@`, `:`, `=` as before issue 22's screen (the tests compare both) */
  screen?: boolean;
}

/** The detector families the character census can skip (bits of the mask `families` returns). */
const NUMERIC = 1;
const ALNUM = 2;
const EMAIL = 4;
const ADDRESSES = 8;
const URL_CREDENTIALS = 16;
const ASSIGNMENTS = 32;
const PREFIXED = 64;

/**
 * The families that can find something in `text` from `from` (a mask of the bits above), from one pass over its
 * characters; `screen === false` skips only by digits, dashes, `@`, `:` and `=` (see DetectOptions). Every
 * detection comes from one of these families, so a text for which this is 0 has none.
 */
function families(text: string, from: number, screen: boolean): number {
  const end = text.length;
  const scanFrom = Math.max(0, from - ASSIGN_LOOKBACK);
  let digits = 0;
  let at = false;
  let colons = 0;
  let eq = false;
  let scheme = false;
  let dashes = 0;
  let dots = 0;
  // Every alnum-family pattern needs a capital at or after `from`, or five dashes (a MAC address).
  let upper = false;
  // Every vendor prefix (secrets.ts, PREFIX) holds a capital, `_`, `:` or a lower-case letter before `-`, or
  // is a lower-case `bearer `/`basic `; its match starts at most 16 characters before `from`.
  const prefixFrom = from - 16;
  let prefixChars = false;
  // A lower-case `bearer `/`basic ` ends in `r ` or `c `, with the space at least four characters after its start.
  let schemeSpace = false;
  if (end - scanFrom > FEATURE_SCAN_LIMIT) {
    // Long text has digits, colons and dashes anyway; only ask for the rarer characters.
    digits = 7;
    dashes = 5;
    dots = 3;
    upper = true;
    prefixChars = true;
    at = text.indexOf("@", from) !== -1;
    colons = text.indexOf(":", scanFrom) === -1 ? 0 : 2;
    eq = text.indexOf("=", scanFrom) !== -1;
    scheme = text.indexOf("://", scanFrom) !== -1;
  } else {
    for (let i = scanFrom; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c <= 61) {
        if (c >= 48 && c <= 57) {
          if (i >= from) digits++;
        } else if (c === 46) {
          if (i >= from) dots++;
        } else if (c === 45) {
          dashes++;
          const p = i > 0 ? text.charCodeAt(i - 1) : 0;
          if (p >= 97 && p <= 122 && i > prefixFrom) prefixChars = true;
        } else if (c === 58) {
          colons++;
          if (i >= prefixFrom) prefixChars = true;
          if (i + 1 < end && text.charCodeAt(i + 1) === 47) scheme = true;
        } else if (c === 61) eq = true;
        else if (c === 32 && i >= prefixFrom + 4 && i >= 4) {
          const p = text.charCodeAt(i - 1);
          if (p === 114 || p === 99) schemeSpace = true;
        }
      } else if (c === 64) at = true;
      else if (c <= 90) {
        if (c >= 65) {
          if (i >= from) upper = true;
          if (i >= prefixFrom) prefixChars = true;
        }
      } else if (c === 95 && i >= prefixFrom) prefixChars = true;
    }
  }
  // A numeric value holds seven digits, or six before a check letter (DNI, PPS...), or is an IPv4 address
  // (four digits or more, three dots): see numeric.ts, scanRunAt.
  let numeric = digits >= 6 || (digits >= 4 && dots >= 3);
  if (!screen) {
    numeric = digits >= 4;
    upper = true;
    prefixChars = true;
  }
  let mask = 0;
  if (numeric) mask |= NUMERIC;
  // MAC addresses written AB-CD-EF-.. may hold fewer than four digits.
  if ((digits >= 4 && upper) || dashes >= 5) mask |= ALNUM;
  if (at) mask |= EMAIL;
  if (colons >= 2) mask |= ADDRESSES;
  if (scheme) mask |= URL_CREDENTIALS;
  if (eq || colons > 0) mask |= ASSIGNMENTS;
  if (
    end - Math.max(0, prefixFrom) >= MIN_PREFIXED &&
    (prefixChars || (schemeSpace && lowerScheme(text, prefixFrom)))
  )
    mask |= PREFIXED;
  return mask;
}

/**
 * False when no detector family can find anything in `text`: then detectSegment(text, 0, opts) is empty, whatever
 * the hint and the types on (with the screen on, the default). One pass over its characters, for a caller that
 * would otherwise look the verdict up by the text (a rendering: hashing a fresh string costs more than this).
 */
export function mayDetect(text: string): boolean {
  return families(text, 0, true) !== 0;
}

/**
 * Detections in `text` that start at or after `from` (the text before `from` is only context), sorted
 * and non-overlapping. `text` must end where the segment ends.
 */
export function detectSegment(text: string, from: number, opts: DetectOptions): Candidate[] {
  const run = families(text, from, opts.screen !== false);
  const out: Candidate[] = [];
  if (run === 0) return out;
  const sc: ScanContext = { text, from, end: text.length, hint: opts.hint, isOn: opts.isOn, out };
  if (run & NUMERIC) scanNumeric(sc);
  if (run & ALNUM) scanAlnum(sc);
  if (run & EMAIL) scanEmail(sc);
  if (run & ADDRESSES) scanAddresses(sc);
  if (run & URL_CREDENTIALS) scanUrlCredentials(sc);
  if (run & ASSIGNMENTS) {
    scanAssignments(sc);
    scanHighEntropy(sc);
  }
  if (run & PREFIXED) scanPrefixed(sc);
  return resolveOverlaps(out);
}

/** A lower-case `bearer ` or `basic ` (PREFIX's only alternatives without a capital, `_`, `:` or `-`). */
function lowerScheme(text: string, from: number): boolean {
  const at = Math.max(0, from);
  return text.indexOf("earer ", at) !== -1 || text.indexOf("asic ", at) !== -1;
}

/**
 * Keeps the highest-scoring detection where several overlap (ties: the longer, then the earlier), then
 * widens a kept detection to cover any dropped one that stuck out of it, so no part of a value that some
 * detector recognised is left in clear.
 */
export function resolveOverlaps(cands: Candidate[]): Candidate[] {
  if (cands.length <= 1) return cands;
  const order = [...cands].sort(
    (a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: Candidate[] = [];
  const dropped: Candidate[] = [];
  for (const c of order) {
    if (kept.some((k) => c.start < k.end && k.start < c.end)) dropped.push(c);
    else kept.push(c);
  }
  for (const c of dropped) {
    for (const k of kept) {
      if (c.start < k.end && k.start < c.end) {
        k.start = Math.min(k.start, c.start);
        k.end = Math.max(k.end, c.end);
      }
    }
  }
  kept.sort((a, b) => a.start - b.start);
  const merged: Candidate[] = [kept[0]!];
  for (let i = 1; i < kept.length; i++) {
    const k = kept[i]!;
    const last = merged[merged.length - 1]!;
    if (k.start < last.end) {
      last.end = Math.max(last.end, k.end);
      if (k.score > last.score) {
        last.type = k.type;
        last.score = k.score;
        last.norm = k.norm;
      }
    } else merged.push(k);
  }
  return merged;
}
