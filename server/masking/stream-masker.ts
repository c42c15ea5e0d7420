// Streaming masker for terminal output: chunks in, masked text out, equal to masking the whole text at
// once for any chunking. It emits everything up to the last safe cut (see ./mask-text.ts) and holds the
// tail that could still be the start of a value.
//
// Bounds: the ordinary tail is held up to `maxHoldBytes` (512 characters by default); past that a cut is
// forced at the last whitespace (never inside a surrogate pair or an ANSI escape sequence), and if a
// masked value touches the forced cut, the rest of that token is swallowed too. Output can then differ
// from whole-text masking, but nothing detected leaks. PEM private keys are never held: the label is
// emitted at the BEGIN line and the body is dropped as it arrives (only a partial END line, under 80
// characters, waits for the next chunk).
import "server-only";

import { compileConfig } from "./config";
import { csiEndsAt } from "./detectors";
import { CONTEXT_KEEP, SegmentMasker } from "./mask-text";
import { findPemHeader, scanPemBody } from "./pem";
import { fullLabel } from "./redact";
import type { MaskingConfig, StreamMasker, StreamMaskerOptions } from "./types";

const DEFAULT_HOLD = 512;
/** Characters kept back when a cut is forced, so a value just starting is not split. */
const FORCED_TAIL = 64;

/** A cut this far into the pending text needs nothing before it to be judged (quote window is 260). */
const LOOKBACK_FOR_CUT = 300;

const OPEN_SECRET_QUOTE =
  /(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|session[_-]?key)["']?[ \t]{0,3}(?:=>|:=|=|:)[ \t]{0,3}(["'])(?:(?!\1)[^\n]){0,200}$/i;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const isTokenChar = (c: number): boolean =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 43 ||
  c === 47 ||
  c === 61 ||
  c === 95 ||
  c === 45 ||
  c === 46 ||
  c === 126;

const isUpperOrDigit = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
const isGroupPunct = (c: number): boolean =>
  c === 40 || c === 41 || c === 43 || c === 45 || c === 46 || c === 47;

/**
 * Whether token s[a, b) could end with the first group of a value that has inner spaces (card, phone,
 * IBAN, NINO). Such values are made of digits, upper-case letters and ()+-./, and start where the
 * previous character is not a letter (or is the end of an ANSI colour sequence).
 */
function isValueLike(s: string, a: number, b: number): boolean {
  let e = b;
  while (e > a && isGroupPunct(s.charCodeAt(e - 1))) e--;
  let j = e;
  while (j > a && isUpperOrDigit(s.charCodeAt(j - 1))) j--;
  if (j === e) return false;
  if (j === a) return true;
  const c = s.charCodeAt(j - 1);
  if ((c >= 97 && c <= 122) || c === 95) return csiEndsAt(s, j);
  return true;
}

/** A PEM header starts within the last 80 characters before `i` but is not complete before it. */
function insidePemHeader(s: string, i: number): boolean {
  const begin = s.indexOf("-----BEGIN", Math.max(0, i - 80));
  if (begin === -1 || begin >= i) return false;
  const header = findPemHeader(s, begin);
  return header === null || header.end > i;
}

/** Largest cut `i` (in `s`, after `from`) where no detection can cross; `from` when there is none. */
export function lastSafeCut(s: string, from: number): number {
  let i = s.length;
  while (i > from) {
    const c = s.charCodeAt(i - 1);
    if (!isSpace(c)) {
      i--;
      continue;
    }
    let tokenStart = i - 1;
    let safe = c !== 32;
    if (!safe) {
      let k = i - 1;
      while (k > 0 && !isSpace(s.charCodeAt(k - 1))) k--;
      tokenStart = k;
      safe = k === i - 1 || !isValueLike(s, k, i - 1);
    }
    if (safe && !insidePemHeader(s, i) && !OPEN_SECRET_QUOTE.test(s.slice(Math.max(0, i - 260), i))) return i;
    i = Math.min(i - 1, tokenStart);
  }
  return from;
}

/** End of the escape sequence starting at `esc`, or -1 while it is incomplete. */
function escapeEnd(s: string, esc: number): number {
  const kind = s.charCodeAt(esc + 1);
  if (Number.isNaN(kind)) return -1;
  if (kind === 91) {
    for (let i = esc + 2; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 64 && c <= 126) return i + 1;
    }
    return -1;
  }
  if (kind === 93) {
    for (let i = esc + 2; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 7) return i + 1;
      if (c === 27 && s.charCodeAt(i + 1) === 92) return i + 2;
    }
    return -1;
  }
  return esc + 2;
}

/** Moves a forced cut back so it splits neither a surrogate pair, an escape sequence nor a PEM header. */
function adjustCut(s: string, f: number): number {
  let cut = f;
  const esc = s.lastIndexOf("\u001b", cut - 1);
  if (esc !== -1 && cut - esc < 256) {
    const e = escapeEnd(s, esc);
    if (e === -1 || e > cut) cut = esc;
  }
  const begin = s.lastIndexOf("-----BEGIN", cut);
  if (begin !== -1 && cut - begin < 100) cut = begin;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return cut;
}

export function createStreamMasker(cfg: MaskingConfig, opts: StreamMaskerOptions = {}): StreamMasker {
  const cc = compileConfig(cfg);
  const maxHold = Math.max(FORCED_TAIL * 2, opts.maxHoldBytes ?? DEFAULT_HOLD);
  const report = opts.onFinding;
  const pemOn = cc.isOn("private_key");
  const segments = new SegmentMasker(cc, "", report);
  /** Recent original text, for finding safe cuts; the segment masker keeps its own context. */
  let recent = "";
  let pending = "";
  let base = 0;
  let mode: "text" | "pem" | "swallow" = "text";
  let pemStart = 0;

  const consumed = (n: number): string => {
    const gone = pending.slice(0, n);
    recent += gone;
    if (recent.length > CONTEXT_KEEP * 2) recent = recent.slice(-CONTEXT_KEEP);
    pending = pending.slice(n);
    base += n;
    return gone;
  };

  /** Masks and emits pending[0, n); true when a masked value ends exactly at n. */
  const emitText = (n: number, out: string[]): boolean => {
    const offset = base;
    const r = segments.mask(consumed(n), offset);
    out.push(r.text);
    return r.endsInValue;
  };

  const drain = (final: boolean): string => {
    const out: string[] = [];
    for (;;) {
      if (mode === "pem") {
        const r = scanPemBody(pending, 0, final);
        segments.skip(consumed(r.end), "");
        if (!r.done) break;
        report?.({ type: "private_key", start: pemStart, end: base });
        mode = "text";
        continue;
      }
      if (mode === "swallow") {
        let j = 0;
        while (j < pending.length && isTokenChar(pending.charCodeAt(j))) j++;
        segments.skip(consumed(j), "");
        if (pending.length === 0 && !final) break;
        mode = "text";
        continue;
      }
      if (pending.length === 0) break;
      const header = pemOn ? findPemHeader(pending, 0) : null;
      if (header) {
        if (header.start > 0) emitText(header.start, out);
        const label = fullLabel("private_key");
        out.push(label);
        pemStart = base;
        segments.skip(consumed(header.end - header.start), label);
        mode = "pem";
        continue;
      }
      if (final) {
        emitText(pending.length, out);
        break;
      }
      // Usually a cut well inside the pending text is found without looking at what came before it.
      const inside = lastSafeCut(pending, 0);
      const cut =
        inside >= LOOKBACK_FOR_CUT ? inside : lastSafeCut(recent + pending, recent.length) - recent.length;
      if (cut > 0) emitText(cut, out);
      if (pending.length <= maxHold) break;
      let f = pending.length - FORCED_TAIL;
      for (let i = f; i > 0 && f - i < maxHold; i--) {
        if (isSpace(pending.charCodeAt(i - 1))) {
          f = i;
          break;
        }
      }
      f = adjustCut(pending, f);
      if (f <= 0) f = pending.length - FORCED_TAIL;
      if (emitText(f, out) && pending.length > 0 && isTokenChar(pending.charCodeAt(0))) mode = "swallow";
    }
    return out.join("");
  };

  return {
    push: (chunk) => {
      if (chunk === "") return "";
      pending += chunk;
      return drain(false);
    },
    flush: () => drain(true),
  };
}
