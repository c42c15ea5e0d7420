// Numeric family: finds runs of digits joined by single separators (space, dash, dot, slash, parentheses,
// a leading +) with one character scan, then tries the numeric detectors on each run and on each
// space-delimited part of it: payment cards, IPv4, phones, and the digit-only national identifiers.
// Bare digit identifiers need their checksum AND either their national layout or a context keyword.
import "server-only";

import type { ScanContext } from "../types";
import * as v from "../validators";
import { dispatchDigitLedToken } from "./alnum";
import { CONTEXT_BONUS, scoreOf } from "./catalog";
import {
  csiEnd,
  csiEndsAt,
  escBefore,
  hasContext,
  hintHasContext,
  isDigitCode,
  isWordCode,
  windowBefore,
} from "./context";

interface Span {
  text: string;
  digits: string;
  start: number;
  end: number;
  tokens: number;
  /** A neighbouring group in the same run has the same length: the value probably goes on. */
  continues: boolean;
  /** A short all-digit group touches the span in the same run. */
  touchesDigits: boolean;
}

/** Most space-separated groups one value spans (`+1 555 123 4567`, `4242 4242 4242 4242 424`). */
const MAX_GROUPS = 8;

function emit(sc: ScanContext, type: string, sp: Span, context: boolean): true {
  sc.out.push({
    type,
    start: sp.start,
    end: sp.end,
    score: scoreOf(type) + (context ? CONTEXT_BONUS : 0),
    norm: sp.digits,
  });
  return true;
}

/**
 * A national id or other checksum type: valid checksum, then either the country's layout (`format`)
 * or a context keyword. `format === null` means context is always required.
 */
/** An IBAN-style group of four (`DE89 `, `WEST `) right before the digits. */
const GROUP_BEFORE = /(?:^|[^A-Za-z0-9])[A-Z][A-Z0-9]{3} $/;
/** Words after which a number is a reference, not a person's data. */
const REFERENCE_BEFORE =
  /(?:order|invoice|inv|ref|reference|ticket|tracking|case|sku|po|part|model|item|lot|batch|id|no|nr|number|serial|account|acct|#)\s*[:#.=]?\s*(?:no\.?|#)?\s*$/i;

/**
 * Without context, a layout match is not trusted when the digits look like part of something longer
 * (more groups of the same size around them, an IBAN group right before) or follow a reference word.
 */
function looksEmbedded(sc: ScanContext, sp: Span): boolean {
  if (sp.continues) return true;
  const before = windowBefore(sc, sp.start, 24);
  return GROUP_BEFORE.test(before) || REFERENCE_BEFORE.test(before);
}

function id(
  sc: ScanContext,
  sp: Span,
  type: string,
  valid: (d: string) => boolean,
  format: RegExp | null,
): boolean {
  if (!sc.isOn(type)) return false;
  // The cheap tests first: most spans fail the layout, and then only a context keyword lets them count.
  if (format === null || !format.test(sp.text)) {
    if (!hasContext(sc, type, sp.start) || !valid(sp.digits)) return false;
    return emit(sc, type, sp, true);
  }
  if (!valid(sp.digits)) return false;
  const context = hasContext(sc, type, sp.start);
  if (!context && (sp.touchesDigits || looksEmbedded(sc, sp))) return false;
  return emit(sc, type, sp, context);
}

const CARD_GROUPED = /^\d{4}([ -])\d{3,6}(?:\1\d{3,6}){0,2}\1\d{1,6}$/;
const ALL_DIGITS = /^\d+$/;

function card(sc: ScanContext, sp: Span): boolean {
  if (!sc.isOn("credit_card") || !v.isCardNumber(sp.digits)) return false;
  if (!ALL_DIGITS.test(sp.text) && !CARD_GROUPED.test(sp.text)) return false;
  const context = hasContext(sc, "credit_card", sp.start);
  if (!context && looksEmbedded(sc, sp)) return false;
  return emit(sc, "credit_card", sp, context);
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;
/** Version numbers look like addresses: `version 1.2.3.4`, `Chrome/124.0.6367.91`, `pkg@1.2.3.4`. */
const VERSION_BEFORE =
  /(?:(?:version|ver\.?|release|build|rev|firmware|fw|kernel|v)[\s:=]*|[A-Za-z]\/|[A-Za-z0-9]@)$/i;
const VERSION_AFTER = /^-(?:alpha|beta|rc|pre|dev|snapshot|[a-z])/i;

function ipv4(sc: ScanContext, sp: Span): boolean {
  if (!sc.isOn("ipv4")) return false;
  const m = IPV4.exec(sp.text);
  if (!m) return false;
  for (let g = 1; g <= 4; g++) {
    const octet = m[g]!;
    if (Number(octet) > 255 || (octet.length > 1 && octet[0] === "0")) return false;
  }
  if (m[5] !== undefined && Number(m[5]) > 32) return false;
  if (VERSION_BEFORE.test(windowBefore(sc, sp.start, 12))) return false;
  if (VERSION_AFTER.test(sc.text.slice(sp.end, sp.end + 12))) return false;
  return emit(sc, "ipv4", sp, false);
}

const PHONE_E164 = /^\+[1-9][\d ().-]*\d$/;
const PHONE_US = /^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}$/;
const PHONE_UK = /^0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}$/;
const PHONE_DE = /^0\d{2,4}[ /-]\d{4,8}$/;
const PHONE_FR = /^0[1-9](?:[ .-]\d{2}){4}$/;
const PHONE_IN = /^0?[6-9]\d{4}[ -]\d{5}$/;
const PHONE_ANY = /^\(?\d[\d ().-]*\d$/;
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;

function phone(sc: ScanContext, sp: Span): boolean {
  if (!sc.isOn("phone")) return false;
  const n = sp.digits.length;
  if (n < 7 || n > 15) return false;
  const t = sp.text;
  let shaped = false;
  if (t.charCodeAt(0) === 43) shaped = n >= 8 && PHONE_E164.test(t);
  else if (n === 10 || n === 11) shaped = PHONE_US.test(t) || PHONE_FR.test(t) || PHONE_IN.test(t);
  if (!shaped && t.charCodeAt(0) === 48) {
    shaped = (n === 11 && PHONE_UK.test(t)) || (n >= 10 && n <= 12 && PHONE_DE.test(t));
  }
  const context = hasContext(sc, "phone", sp.start);
  if (!shaped && !(context && PHONE_ANY.test(t) && !DATE_LIKE.test(t))) return false;
  if (!context && (sp.touchesDigits || looksEmbedded(sc, sp))) return false;
  return emit(sc, "phone", sp, context);
}

const F = {
  ssn: /^\d{3}([ -])\d{2}\1\d{4}$/,
  ein: /^\d{2}-\d{7}$/,
  sin: /^\d{3}([ -])\d{3}\1\d{3}$/,
  bsn: /^\d{4}\.\d{2}\.\d{3}$/,
  rut: /^(?:\d{1,2}\.\d{3}\.\d{3}|\d{7,8})-\d$/,
  cuit: /^\d{2}-\d{8}-\d$/,
  se10: /^\d{6}[-+]\d{4}$/,
  se12: /^(?:18|19|20)\d{6}[-+]\d{4}$/,
  fi: /^\d{6}[-+]\d{4}$/,
  steuer: /^\d{2} \d{3} \d{3} \d{3}$/,
  no: /^\d{6} \d{5}$/,
  be: /^\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}$/,
  cpf: /^\d{3}\.\d{3}\.\d{3}-\d{2}$/,
  aadhaar: /^\d{4}([ -])\d{4}\1\d{4}$/,
  ahv: /^756\.\d{4}\.\d{4}\.\d{2}$/,
  za: /^\d{6} \d{4} \d{3}$/,
  kr: /^\d{6}-\d{7}$/,
  cnpj: /^\d{2}\.\d{3}\.\d{3}\/\d{4}-\d{2}$/,
  nir: /^[1-8] \d{2} \d{2} \d{2} \d{3} \d{3} \d{2}$/,
  any: /^[\d ./-]+$/,
};

const rutValid = (d: string): boolean => v.isClRut(d.slice(0, -1), d.slice(-1));
const se12Valid = (d: string): boolean => v.isSePersonnummer(d.slice(2));

function fiHetu(sc: ScanContext, sp: Span): boolean {
  if (!sc.isOn("fi_hetu") || !F.fi.test(sp.text) || !v.isFiHetu(sp.text)) return false;
  return emit(sc, "fi_hetu", sp, hasContext(sc, "fi_hetu", sp.start));
}

/** Stands for the Finnish id in IDS_BY_DIGITS: checked by fiHetu (its layout holds a century sign). */
const FI_HETU = "fi_hetu";
type IdCheck = readonly [type: string, valid: (d: string) => boolean, format: RegExp | null];

/**
 * The ids checkSpan tries on a span of this many digits, in this order: each needs its checksum and either its
 * layout (F; null: none) or a context keyword.
 */
const IDS_BY_DIGITS = new Map<number, ReadonlyArray<IdCheck | typeof FI_HETU>>([
  [
    8,
    [
      ["au_tfn", v.isAuTfn, null],
      ["cl_rut", rutValid, F.rut],
    ],
  ],
  [
    9,
    [
      ["us_ssn", v.isUsSsn, F.ssn],
      ["us_itin", v.isUsItin, F.ssn],
      ["us_ein", v.isUsEin, null],
      ["ca_sin", v.isCaSin, F.sin],
      ["nl_bsn", v.isNlBsn, F.bsn],
      ["cl_rut", rutValid, F.rut],
      ["au_tfn", v.isAuTfn, null],
      ["us_aba_routing", v.isAbaRouting, null],
      ["pt_nif", v.isPtNif, null],
      ["il_id", v.isIlId, null],
    ],
  ],
  [
    10,
    [
      ["se_personnummer", v.isSePersonnummer, F.se10],
      FI_HETU,
      ["uk_nhs", v.isUkNhs, null],
      ["dk_cpr", v.isDkCpr, null],
      ["au_medicare", v.isAuMedicare, null],
    ],
  ],
  [
    11,
    [
      ["br_cpf", v.isBrCpf, F.cpf],
      ["be_national_number", v.isBeNationalNumber, F.be],
      ["de_steuer_id", v.isDeSteuerId, F.steuer],
      ["no_fodselsnummer", v.isNoFodselsnummer, F.no],
      ["ar_cuit", v.isArCuit, F.cuit],
      ["pl_pesel", v.isPlPesel, null],
      ["tr_tckn", v.isTrTckn, null],
      ["au_medicare", v.isAuMedicare, null],
    ],
  ],
  [
    12,
    [
      ["in_aadhaar", v.isInAadhaar, F.aadhaar],
      ["se_personnummer", se12Valid, F.se12],
      ["jp_my_number", v.isJpMyNumber, null],
    ],
  ],
  [
    13,
    [
      ["ch_ahv", v.isChAhv, F.ahv],
      ["kr_rrn", v.isKrRrn, F.kr],
      ["za_id", v.isZaId, F.za],
      ["ro_cnp", v.isRoCnp, null],
    ],
  ],
  [14, [["br_cnpj", v.isBrCnpj, F.cnpj]]],
  [15, [["fr_nir", v.isFrNir, F.nir]]],
  [18, [["cn_resident_id", v.isCnResidentId, F.any]]],
]);

/** Every type tried as an id. */
const ID_TYPES = [...IDS_BY_DIGITS.values()].flatMap((checks) =>
  checks.map((c) => (c === FI_HETU ? c : c[0])),
);

/** Hints (column names) that hold a keyword of some id type; remembered per hint. */
const idHints = new Map<string, boolean>();

function hintNamesAnId(hint: string): boolean {
  if (hint === "") return false;
  let has = idHints.get(hint);
  if (has === undefined) {
    has = ID_TYPES.some((type) => hintHasContext(hint, type));
    if (idHints.size >= 256) idHints.clear();
    idHints.set(hint, has);
  }
  return has;
}

/**
 * Whether any id can match `sp`. No id layout (F) admits a leading `+` or `(`, so such a span is an id only
 * with a context keyword: none before a span at the text's start, so only the hint can give one. A phone
 * number alone in a cell (`+1 (555) 010-1234`) skips the ten or so id checks its length would try.
 */
function idPossible(sc: ScanContext, sp: Span): boolean {
  const c = sp.text.charCodeAt(0);
  return (c !== 43 && c !== 40) || sp.start > 0 || hintNamesAnId(sc.hint);
}

/** Tries every numeric detector whose length fits; returns true when at least one matched. */
function checkSpan(sc: ScanContext, sp: Span): boolean {
  const n = sp.digits.length;
  let hit = false;
  if (sp.tokens === 1 && n <= 14 && sp.text.includes(".")) hit = ipv4(sc, sp);
  if (n >= 13 && n <= 19) hit = card(sc, sp) || hit;
  const ids = idPossible(sc, sp) ? IDS_BY_DIGITS.get(n) : undefined;
  if (ids)
    for (const check of ids)
      hit = (check === FI_HETU ? fiHetu(sc, sp) : id(sc, sp, check[0], check[1], check[2])) || hit;
  if (!hit) hit = phone(sc, sp);
  return hit;
}

function skipWord(s: string, i: number, end: number): number {
  let j = i + 1;
  while (j < end && isWordCode(s.charCodeAt(j))) j++;
  return j;
}

function leftBoundaryOk(s: string, start: number): boolean {
  if (start === 0) return true;
  const b = s.charCodeAt(start - 1);
  if (isWordCode(b)) return csiEndsAt(s, start);
  if (b === 46) return false;
  if (b === 45 && start >= 2 && isWordCode(s.charCodeAt(start - 2))) return false;
  return true;
}

/** The digits of `s` from `from` to `to`, in order (slices between separators; no regular expression). */
function digitsBetween(s: string, from: number, to: number): string {
  let out = "";
  let runStart = -1;
  for (let i = from; i < to; i++) {
    if (isDigitCode(s.charCodeAt(i))) {
      if (runStart === -1) runStart = i;
    } else if (runStart !== -1) {
      out += s.slice(runStart, i);
      runStart = -1;
    }
  }
  return runStart === -1 ? out : out + s.slice(runStart, to);
}

function allDigits(s: string, starts: number[], ends: number[], n: number): boolean {
  for (let i = starts[n]!; i < ends[n]!; i++) if (!isDigitCode(s.charCodeAt(i))) return false;
  return true;
}

/** Token `n` is a short all-digit group (six digits or fewer) that could belong to the same value. */
function shortDigitGroup(s: string, starts: number[], ends: number[], n: number): boolean {
  return ends[n]! - starts[n]! <= 6 && allDigits(s, starts, ends, n);
}

/** Token `n` is all digits and as long as token `t`. */
function sameGroup(s: string, starts: number[], ends: number[], n: number, t: number): boolean {
  return ends[n]! - starts[n]! === ends[t]! - starts[t]! && allDigits(s, starts, ends, n);
}

/** Tries each space-delimited part of a run, longest first from the left. */
function processRun(sc: ScanContext, starts: number[], ends: number[]): void {
  const s = sc.text;
  const k = starts.length;
  const digits: string[] = [];
  for (let t = 0; t < k; t++) digits.push(digitsBetween(s, starts[t]!, ends[t]!));
  let a = 0;
  while (a < k) {
    let matched = false;
    const last = Math.min(k - 1, a + MAX_GROUPS - 1);
    let total = 0;
    for (let b = a; b <= last; b++) total += digits[b]!.length;
    for (let b = last; b >= a; b--) {
      if (total >= 4 && total <= 19) {
        let dd = "";
        for (let t = a; t <= b; t++) dd += digits[t]!;
        const sp: Span = {
          text: s.slice(starts[a]!, ends[b]!),
          digits: dd,
          start: starts[a]!,
          end: ends[b]!,
          tokens: b - a + 1,
          continues:
            (a > 0 && sameGroup(s, starts, ends, a - 1, a)) ||
            (b < k - 1 && sameGroup(s, starts, ends, b + 1, b)),
          touchesDigits:
            (a > 0 && shortDigitGroup(s, starts, ends, a - 1)) ||
            (b < k - 1 && shortDigitGroup(s, starts, ends, b + 1)),
        };
        if (checkSpan(sc, sp)) {
          a = b + 1;
          matched = true;
          break;
        }
      }
      total -= digits[b]!.length;
    }
    if (!matched) a++;
  }
}

function isIsoDate(s: string, start: number, end: number): boolean {
  return end - start === 10 && s.charCodeAt(start + 4) === 45 && s.charCodeAt(start + 7) === 45;
}

/** What the first pass over a run learned; reused to avoid allocating per number. */
const run = { end: 0, digits: 0, dots: 0 };

/**
 * Extends a run of digits from `i` (a digit): digits, single separators (space, dash, dot, slash)
 * between digits, parentheses around groups. Fills `run`.
 */
function measureRun(s: string, i: number, end: number): void {
  let j = i;
  let last = i;
  let count = 0;
  let dots = 0;
  for (;;) {
    while (j < end && isDigitCode(s.charCodeAt(j))) {
      j++;
      count++;
    }
    last = j;
    let c = j < end ? s.charCodeAt(j) : -1;
    if (c === 41) {
      j++;
      last = j;
      c = j < end ? s.charCodeAt(j) : -1;
      if (isDigitCode(c)) continue;
    }
    if (c === 32 || c === 45 || c === 46 || c === 47) {
      const n1 = j + 1 < end ? s.charCodeAt(j + 1) : -1;
      const paren = n1 === 40 && j + 2 < end && isDigitCode(s.charCodeAt(j + 2));
      if (isDigitCode(n1) || paren) {
        if (c === 46) dots++;
        j += paren ? 2 : 1;
        continue;
      }
    } else if (c === 40 && j + 1 < end && isDigitCode(s.charCodeAt(j + 1))) {
      j++;
      continue;
    }
    break;
  }
  run.end = last;
  run.digits = count;
  run.dots = dots;
}

/** Digits and group punctuation: ( ) space . / - and digits. */
const isRunCode = (c: number): boolean => (c >= 45 && c <= 57) || c === 32 || c === 40 || c === 41; // - . / 0-9, space, ( )

/**
 * Where the next run of at least four characters starts at or after `i` (a digit, then digits and group
 * punctuation, the fourth or a later one a digit or `)`): every numeric value is at least that long. The same
 * positions as the regular expression /\d[\d ()./-]{2,}[\d)]/g found before, without a match object per run:
 * when a digit's run holds no digit or `)` from its fourth character on, no later start inside that run can,
 * so the search goes on after it. -1 when there is none.
 */
export function nextRunStart(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = s.charCodeAt(j);
      if (!isRunCode(d)) break;
      if (j >= i + 3 && ((d >= 48 && d <= 57) || d === 41)) return i;
      j++;
    }
    i = j + 1;
  }
  return -1;
}

export function scanNumeric(sc: ScanContext): void {
  const s = sc.text;
  const end = sc.end;
  let i = nextRunStart(s, sc.from);
  while (i !== -1) i = nextRunStart(s, scanRunAt(sc, s, end, i));
}

/** Examines the run whose first digit is at `i`; returns where scanning goes on. */
function scanRunAt(sc: ScanContext, s: string, end: number, i: number): number {
  {
    let start = i;
    if (i > sc.from) {
      const p = s.charCodeAt(i - 1);
      if (p === 43 || p === 40) start = i - 1;
      else if (p === 91 || p === 59) {
        // Parameters of an ANSI sequence (ESC [ 31 ; 1 m): skip the whole sequence.
        const esc = escBefore(s, i, 16);
        const seqEnd = esc === -1 ? -1 : csiEnd(s, esc);
        if (seqEnd > i) return seqEnd;
      }
    }
    if (!leftBoundaryOk(s, start)) return skipWord(s, i, end);
    measureRun(s, i, end);
    const last = run.end;
    // A dash before a check letter: RUT 12.345.678-K, DNI 12345678-Z.
    // Read within the text only (a read past its end makes V8 leave its fast path for this function).
    if (
      last + 1 < end &&
      s.charCodeAt(last) === 45 &&
      s.charCodeAt(last + 1) >= 65 &&
      s.charCodeAt(last + 1) <= 90 &&
      start === i &&
      run.digits >= 6
    ) {
      return dispatchDigitLedToken(sc, i);
    }
    if (last < end && isWordCode(s.charCodeAt(last))) {
      const c = s.charCodeAt(last);
      // Digits running into a capital: a DNI, PPS, HETU, Chinese id ending in X.
      const letterId = c >= 65 && c <= 90 && start === i && run.digits >= 6 && !isIsoDate(s, start, last);
      return letterId ? dispatchDigitLedToken(sc, i) : skipWord(s, last, end);
    }
    // Only IPv4 (three dots) is shorter than seven digits; an ISO date (2024-05-01) is nothing.
    if ((run.digits >= 7 || (run.digits >= 4 && run.dots === 3)) && !isIsoDate(s, start, last)) {
      const starts = [start];
      const ends: number[] = [];
      for (let j = i; j < last; j++) {
        if (s.charCodeAt(j) === 32) {
          ends.push(j);
          starts.push(j + 1);
        }
      }
      ends.push(last);
      processRun(sc, starts, ends);
    }
    return last;
  }
}
