// PEM private key blocks span lines, so they are not a detector but a mode of the masking engine: from
// a BEGIN ... PRIVATE KEY header, everything that can be part of the block (base64 lines, Proc-Type and
// DEK-Info headers, escaped newlines in JSON) up to the END line, or up to the first character that
// cannot be, is the key. Without an END line the block ends at that first foreign character (fail closed).
import "server-only";

const HEADER = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g;
const BODY = /[A-Za-z0-9+/=\r\n\t :,.\\_()]*/y;
const FOOTER = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/y;
const FOOTER_PREFIX = /^-{1,5}(?:E(?:N(?:D(?: [A-Z0-9 ]*-{0,4})?)?)?)?$/;

export interface PemHeader {
  start: number;
  end: number;
}

export function findPemHeader(s: string, from: number): PemHeader | null {
  const i = s.indexOf("-----BEGIN ", from);
  if (i === -1) return null;
  HEADER.lastIndex = i;
  const m = HEADER.exec(s);
  return m ? { start: m.index, end: m.index + m[0].length } : null;
}

export interface PemBodyScan {
  /** Everything before `end` belongs to the block. */
  end: number;
  /** False when the input ran out and more text could still belong to the block. */
  done: boolean;
}

/** Consumes the block body starting at `at`; `final` says no more input will come. */
export function scanPemBody(s: string, at: number, final: boolean): PemBodyScan {
  let i = at;
  for (;;) {
    BODY.lastIndex = i;
    BODY.exec(s);
    i = BODY.lastIndex;
    if (i >= s.length) return { end: i, done: final };
    if (s.charCodeAt(i) !== 45) return { end: i, done: true };
    FOOTER.lastIndex = i;
    if (FOOTER.test(s)) return { end: FOOTER.lastIndex, done: true };
    if (!final && s.length - i < 80 && FOOTER_PREFIX.test(s.slice(i))) return { end: i, done: false };
    while (i < s.length && s.charCodeAt(i) === 45) i++;
  }
}
