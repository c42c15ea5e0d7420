// Redaction: turns one detected value into what is shown instead, in the style configured for its type:
// full (`[EMAIL]`), partial (`j***@example.com`, `**** **** **** 4242`) or a keyed pseudonym
// (`email_5f2a9c0d1e3b`, HMAC-SHA256 so equal values give equal pseudonyms). Every rendering is stable
// under a second pass: rendering the output again gives the output.
import "server-only";

import { createHmac } from "node:crypto";

import type { MaskStyle } from "./types";

export interface Renderer {
  styleOf(type: string): MaskStyle;
  pseudonym(type: string, norm: string): string;
}

/** Hex characters of the HMAC kept in a pseudonym: 48 bits, so collisions stay rare in large tables. */
export const PSEUDONYM_HEX = 12;

export function fullLabel(type: string): string {
  return `[${type.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}]`;
}

export function isPseudonymOf(type: string, value: string): boolean {
  return (
    value.length === type.length + 1 + PSEUDONYM_HEX &&
    value.startsWith(`${type}_`) &&
    /^[0-9a-f]+$/.test(value.slice(type.length + 1))
  );
}

/** Returns a cached pseudonym function for one key. */
export function makePseudonymizer(key: string): (type: string, norm: string) => string {
  const cache = new Map<string, string>();
  return (type, norm) => {
    const k = `${type}\u0000${norm}`;
    let p = cache.get(k);
    if (p === undefined) {
      const mac = createHmac("sha256", key).update(k).digest("hex").slice(0, PSEUDONYM_HEX);
      p = `${type}_${mac}`;
      if (cache.size >= 10_000) cache.clear();
      cache.set(k, p);
    }
    return p;
  };
}

const NUMERIC_TYPES = new Set([
  "credit_card",
  "phone",
  "us_ssn",
  "us_itin",
  "us_ein",
  "us_aba_routing",
  "uk_nhs",
  "ca_sin",
  "au_tfn",
  "au_medicare",
  "br_cpf",
  "br_cnpj",
  "ar_cuit",
  "in_aadhaar",
  "de_steuer_id",
  "nl_bsn",
  "be_national_number",
  "pl_pesel",
  "se_personnummer",
  "dk_cpr",
  "no_fodselsnummer",
  "ch_ahv",
  "pt_nif",
  "ro_cnp",
  "tr_tckn",
  "il_id",
  "za_id",
  "kr_rrn",
  "jp_my_number",
]);
const ALNUM_TYPES = new Set([
  "iban",
  "uk_nino",
  "mx_curp",
  "cl_rut",
  "in_pan",
  "es_dni",
  "es_nie",
  "it_codice_fiscale",
  "fr_nir",
  "fi_hetu",
  "ie_pps",
  "cn_resident_id",
  "sg_nric",
]);
const LOWER_TYPES = new Set(["email", "ipv6", "mac_address"]);

/** Canonical form a pseudonym is computed on, so `4242-4242...` and `4242 4242...` agree. */
export function normalizeValue(type: string, raw: string): string {
  if (NUMERIC_TYPES.has(type)) {
    const digits = raw.replace(/\D+/g, "");
    return digits === "" ? raw : digits;
  }
  if (ALNUM_TYPES.has(type)) return raw.replace(/[^0-9A-Za-z]+/g, "").toUpperCase();
  if (LOWER_TYPES.has(type)) return raw.trim().toLowerCase();
  return raw;
}

const SECRET_TYPES = new Set([
  "password",
  "secret",
  "high_entropy_secret",
  "bearer_token",
  "basic_auth",
  "url_credentials",
  "aws_secret_access_key",
  "cvv",
]);
const TOKEN_PREFIX =
  /^(?:A(?:KIA|SIA|BIA|CCA)|AIza|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]-|[spr]k_(?:live|test)_|sk-ant-|sk-proj-|sk-|npm_|pypi-|SG\.|hf_|do[opr]_v1_|shp(?:at|ca|pa|ss)_|eyJ|https:\/\/hooks\.slack\.com\/)/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isDigitOrStar(c: number): boolean {
  return isDigit(c) || c === 42;
}

function isAlnum(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Character codes of a short rendering, one plain array per length (apply reads a plain array fastest). */
const CODES: number[][] = Array.from({ length: 65 }, (_, n) => new Array<number>(n).fill(0));
const MAX_CODES = CODES.length - 1;

/** Replaces every character `pick` selects with `*`, except the last `keep` of them. */
function maskAllBut(value: string, keep: number, pick: (c: number) => boolean): string {
  // Where the kept characters begin: the keep-th picked character from the end.
  let shownFrom = value.length;
  for (let kept = 0; kept < keep && shownFrom > 0; ) if (pick(value.charCodeAt(--shownFrom))) kept++;
  if (value.length <= MAX_CODES) {
    // Short values (cards, phones) as one flat string: the clean-rendering look-up hashes it next.
    const codes = CODES[value.length]!;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      codes[i] = i < shownFrom && pick(c) ? 42 : c;
    }
    return String.fromCharCode.apply(null, codes);
  }
  let out = "";
  let runStart = 0;
  for (let i = 0; i < shownFrom; i++) {
    if (!pick(value.charCodeAt(i))) continue;
    out += `${value.slice(runStart, i)}*`;
    runStart = i + 1;
  }
  return out + value.slice(runStart);
}

function countOf(value: string, pick: (c: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) if (pick(value.charCodeAt(i))) n++;
  return n;
}

/**
 * The last email rendering without digits in its domain, and what it was made of (the first code unit and the
 * domain from `@`): a column of addresses at a few domains renders the same string again and again, and handing
 * back the same string object spares building it and the clean-rendering look-up hashing it anew.
 */
let lastEmailFirst = -1;
let lastEmailDomain = "";
let lastEmailShown = "";

function hasDigitFrom(value: string, from: number): boolean {
  for (let i = from; i < value.length; i++) if (isDigit(value.charCodeAt(i))) return true;
  return false;
}

function partialEmail(value: string): string {
  const at = value.lastIndexOf("@");
  if (at <= 0) return "***";
  const first = value.charCodeAt(0);
  if (
    first === lastEmailFirst &&
    value.length - at === lastEmailDomain.length &&
    value.startsWith(lastEmailDomain, at)
  )
    return lastEmailShown;
  // A domain with digits (`@4.14.12.83.nhs`) could be read as something else once shown alone.
  if (hasDigitFrom(value, at)) return `${value[0]}***@***${value.slice(value.lastIndexOf("."))}`;
  const domain = value.slice(at);
  const shown = `${value[0]}***${domain}`;
  lastEmailFirst = first;
  lastEmailDomain = domain;
  lastEmailShown = shown;
  return shown;
}

function partial(type: string, value: string): string {
  switch (type) {
    case "credit_card":
      return maskAllBut(value, 4, isDigit);
    case "phone":
      // Counting masked digits too, so a second pass keeps what the first showed.
      return maskAllBut(value, countOf(value, isDigitOrStar) >= 10 ? 4 : 2, isDigit);
    case "email":
      return partialEmail(value);
    case "ipv4": {
      const p = value.split(".");
      return `${p[0]}.${p[1] ?? "***"}.***.***`;
    }
    case "ipv6":
      return `${value.split(":")[0]}:****`;
    case "mac_address": {
      const sep = value[2] === "-" ? "-" : ":";
      return `${value.slice(0, 8)}${sep}***`;
    }
    case "iban": {
      const head = value.slice(0, 2);
      return head + maskAllBut(value.slice(2), 4, isAlnum);
    }
    case "private_key":
      return fullLabel(type);
  }
  if (SECRET_TYPES.has(type)) return "********";
  const prefix = TOKEN_PREFIX.exec(value);
  if (prefix) return `${prefix[0]}****`;
  const n = countOf(value, isAlnum);
  const shown = maskAllBut(value, n >= 9 ? 4 : n >= 6 ? 2 : 0, isAlnum);
  // Always at least `***`, which later passes recognise as masked.
  return shown.includes("***") ? shown : `***${shown}`;
}

/** What `value` (detected as `type`) is shown as. `norm` is the canonical form for pseudonyms. */
export function renderMasked(r: Renderer, type: string, value: string, norm: string): string {
  if (type === "private_key") return fullLabel(type);
  const style = r.styleOf(type);
  if (style === "full") return fullLabel(type);
  if (style === "pseudonym") return r.pseudonym(type, norm);
  return partial(type, value);
}

/**
 * Renders a whole cell or JSON value masked by a column or key rule. A value that already is this
 * rule's rendering (a second pass over masked rows) is returned unchanged.
 */
export function renderWhole(r: Renderer, type: string, value: string): string {
  const style = type === "private_key" ? "full" : r.styleOf(type);
  if (style === "full") return fullLabel(type);
  if (style === "pseudonym")
    return isPseudonymOf(type, value) ? value : r.pseudonym(type, normalizeValue(type, value));
  // A rule masks a column whatever it holds: a partial form that keeps characters of a value that is not of the
  // rule's shape (a note in a card column) would show them, so such a value is shown as a label.
  const shape = PARTIAL_SHAPES[type];
  if (shape && !shape.test(value)) return fullLabel(type);
  return partial(type, value);
}

/**
 * The shapes of the values whose partial form keeps characters other than the last few letters and digits (and
 * of those partial forms, so a second pass changes nothing).
 */
const PARTIAL_SHAPES: Readonly<Record<string, RegExp>> = {
  credit_card: /^(?:[\d*][ -]?){12,19}$/,
  phone: /^\+?\(?[\d*]+(?:[ ().-]+[\d*]+)*\)?$/,
  ipv4: /^[\d*]{1,3}(?:\.(?:[\d*]{1,3}|\*\*\*)){3}$/,
  ipv6: /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$|^[0-9a-f]{1,4}:\*{4}$/i,
  mac_address: /^[0-9a-f]{2}(?:[:-][0-9a-f]{2}){2}[:-](?:[0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}|\*\*\*)$/i,
};
