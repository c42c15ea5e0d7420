// Alphanumeric family: upper-case letter-and-digit tokens (IBAN, UK NINO, codice fiscale, CURP, NRIC,
// DNI/NIE, PAN, HETU, PPS, RUT with K, Chinese id ending in X, dash-separated MAC). Each token is
// dispatched on its length and layout to a validator; tokens without a letter belong to the numeric family.
import "server-only";

import type { ScanContext } from "../types";
import * as v from "../validators";
import { CONTEXT_BONUS, scoreOf } from "./catalog";
import { csiEndsAt, hasContext, isBoundaryBefore, isWordCode } from "./context";

// Left boundaries are checked in code (isBoundaryBefore, which also accepts the end of an ANSI colour
// sequence): a leading look-behind would stop the regex engine from skipping ahead quickly.
// Tokens that start with a capital, and MAC addresses. Tokens that start with digits and end in a letter
// (DNI, PPS, HETU, Chinese X, RUT K) are found by the numeric scan, which is already looking at them,
// and handed to dispatchDigitLedToken.
const TOKEN = /(?:[A-Z][0-9A-Z.-]{5,25}|\d[0-9A-F](?:-[0-9A-F]{2}){5})(?![A-Za-z0-9_])/g;
const IBAN = /[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9_])/g;
const NINO_SPACED = /[A-Z]{2} \d{2} \d{2} \d{2} [A-D](?![A-Za-z0-9_])/g;

function push(
  sc: ScanContext,
  type: string,
  start: number,
  end: number,
  norm: string,
  context: boolean,
): void {
  sc.out.push({ type, start, end, score: scoreOf(type) + (context ? CONTEXT_BONUS : 0), norm });
}

function tryType(
  sc: ScanContext,
  type: string,
  ok: boolean,
  start: number,
  end: number,
  norm: string,
  needsContext = false,
): boolean {
  if (!ok || !sc.isOn(type)) return false;
  const context = hasContext(sc, type, start);
  if (needsContext && !context) return false;
  push(sc, type, start, end, norm, context);
  return true;
}

const MAC_DASH = /^[0-9A-F]{2}(?:-[0-9A-F]{2}){5}$/;
const RUT_K = /^(\d{1,2}\.?\d{3}\.?\d{3})-([0-9K])$/;
const DNI_DASH = /^(\d{8})-([A-Z])$/;
const NIE_DASH = /^([XYZ])-?(\d{7})-?([A-Z])$/;
const NIR_CORSICA = /^[12378]\d{4}2[AB]\d{8}$/;

function dispatch(sc: ScanContext, t: string, start: number, end: number): void {
  const n = t.length;
  switch (n) {
    case 8:
      if (tryType(sc, "ie_pps", v.isIePps(t), start, end, t, true)) return;
      break;
    case 9:
      if (tryType(sc, "uk_nino", v.isUkNino(t), start, end, t)) return;
      if (tryType(sc, "sg_nric", v.isSgNric(t), start, end, t)) return;
      if (tryType(sc, "es_dni", v.isEsDni(t), start, end, t)) return;
      if (tryType(sc, "es_nie", v.isEsNie(t), start, end, t)) return;
      if (tryType(sc, "ie_pps", v.isIePps(t), start, end, t, true)) return;
      break;
    case 10:
      if (tryType(sc, "in_pan", v.isInPan(t), start, end, t)) return;
      break;
    case 11:
      if (tryType(sc, "fi_hetu", v.isFiHetu(t), start, end, t)) return;
      break;
    case 15:
      tryType(sc, "fr_nir", NIR_CORSICA.test(t) && v.isFrNir(t), start, end, t, true);
      return;
    case 16:
      tryType(sc, "it_codice_fiscale", v.isItCodiceFiscale(t), start, end, t);
      return;
    case 17:
      tryType(sc, "mac_address", MAC_DASH.test(t), start, end, t.replace(/-/g, ""));
      return;
    case 18:
      if (tryType(sc, "mx_curp", v.isMxCurp(t), start, end, t)) return;
      tryType(sc, "cn_resident_id", t.endsWith("X") && v.isCnResidentId(t), start, end, t);
      return;
  }
  if (n < 9 || n > 12) return;
  const compact = t.replace(/[-.]/g, "");
  const rut = RUT_K.exec(t);
  if (
    rut &&
    rut[2] === "K" &&
    tryType(sc, "cl_rut", v.isClRut(rut[1]!.replace(/\./g, ""), "K"), start, end, compact)
  ) {
    return;
  }
  const dni = DNI_DASH.exec(t);
  if (dni && tryType(sc, "es_dni", v.isEsDni(dni[1]! + dni[2]!), start, end, compact)) return;
  const nie = NIE_DASH.exec(t);
  if (nie && tryType(sc, "es_nie", v.isEsNie(nie[1]! + nie[2]! + nie[3]!), start, end, compact)) return;
}

/**
 * Checks the upper-case token that starts at `start` (a digit run the numeric scan found running into a
 * capital letter). Returns where the token ends.
 */
export function dispatchDigitLedToken(sc: ScanContext, start: number): number {
  const s = sc.text;
  let end = start;
  for (; end < sc.end && end - start < 26; end++) {
    const c = s.charCodeAt(end);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 45 || c === 46)) break;
  }
  if (end < sc.end && isWordCode(s.charCodeAt(end))) return end;
  let t = s.slice(start, end);
  while (t.endsWith(".") || t.endsWith("-")) t = t.slice(0, -1);
  if (t.length >= 6) dispatch(sc, t, start, start + t.length);
  return end;
}

export function scanAlnum(sc: ScanContext): void {
  const s = sc.text;
  TOKEN.lastIndex = sc.from;
  for (let m = TOKEN.exec(s); m !== null; m = TOKEN.exec(s)) {
    const b = m.index > 0 ? s.charCodeAt(m.index - 1) : 32;
    // No token can start inside this one: its characters are all non-boundaries.
    if ((b === 46 || b === 45 || isWordCode(b)) && !csiEndsAt(s, m.index)) continue;
    let t = m[0];
    // A sentence may end right after an id: drop trailing dots and dashes.
    while (t.endsWith(".") || t.endsWith("-")) t = t.slice(0, -1);
    if (t.length < 6) continue;
    dispatch(sc, t, m.index, m.index + t.length);
  }
  if (sc.isOn("iban")) {
    IBAN.lastIndex = sc.from;
    for (let m = IBAN.exec(s); m !== null; m = IBAN.exec(s)) {
      if (!isBoundaryBefore(s, m.index)) {
        // A rejected match may hide a real one that starts inside it, after a space.
        IBAN.lastIndex = m.index + 1;
        continue;
      }
      const norm = m[0].replace(/ /g, "");
      if (v.isIban(norm))
        push(sc, "iban", m.index, m.index + m[0].length, norm, hasContext(sc, "iban", m.index));
    }
  }
  if (sc.isOn("uk_nino")) {
    NINO_SPACED.lastIndex = sc.from;
    for (let m = NINO_SPACED.exec(s); m !== null; m = NINO_SPACED.exec(s)) {
      if (!isBoundaryBefore(s, m.index)) {
        NINO_SPACED.lastIndex = m.index + 1;
        continue;
      }
      const norm = m[0].replace(/ /g, "");
      if (v.isUkNino(norm)) push(sc, "uk_nino", m.index, m.index + m[0].length, norm, false);
    }
  }
}
