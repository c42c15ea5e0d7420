// Network and contact family: email addresses (found from each @), IPv6 and colon-separated MAC
// addresses (found from each colon), and passwords inside URLs (found from each ://). IPv4 lives in the
// numeric family because it is a digit run.
import "server-only";

import type { ScanContext } from "../types";
import { CONTEXT_BONUS, scoreOf } from "./catalog";
import {
  containsMasked,
  csiEnd,
  escBefore,
  hasContext,
  isAlnumCode,
  isBoundaryBefore,
  isDigitCode,
  isWordCode,
} from "./context";

function push(
  sc: ScanContext,
  type: string,
  start: number,
  end: number,
  norm: string,
  context = false,
): void {
  sc.out.push({ type, start, end, score: scoreOf(type) + (context ? CONTEXT_BONUS : 0), norm });
}

// --- email ---------------------------------------------------------------------------------------

const isLocalCode = (c: number): boolean =>
  isAlnumCode(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45; // . _ % + -
const isDomainCode = (c: number): boolean => isAlnumCode(c) || c === 46 || c === 45;

/** Things written name@something.ext that are files, not mailboxes (`icon@2x.png`). */
const FILE_TLDS = new Set(
  "png jpg jpeg gif svg webp ico bmp tif tiff js mjs cjs ts tsx jsx css scss less html htm json xml yml yaml txt md log csv pdf zip gz tgz tar map lock woff woff2 ttf eot mp3 mp4 wav mov avi py rb go rs java kt".split(
    " ",
  ),
);

function isUrlUserinfo(s: string, localStart: number): boolean {
  if (localStart === 0 || s.charCodeAt(localStart - 1) !== 58) return false;
  const before = s.slice(Math.max(0, localStart - 80), localStart);
  const scheme = before.lastIndexOf("://");
  return scheme !== -1 && !/\s/.test(before.slice(scheme));
}

const TLD = /^[A-Za-z]{2,24}$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]+$/;

function isMailDomain(domain: string): boolean {
  const dot = domain.lastIndexOf(".");
  const tld = domain.slice(dot + 1);
  return dot > 0 && TLD.test(tld) && !FILE_TLDS.has(tld.toLowerCase()) && DOMAIN.test(domain);
}

/**
 * The domain checked last and its verdict: a column of addresses repeats a few domains, and comparing the text
 * in place with the last one costs no slice and no regular expression (the verdict depends on the domain alone).
 */
let lastDomain = "";
let lastDomainOk = false;

/** Whether `s` from `start` to `end` is a domain an address can have (a TLD of letters, not a file type). */
function isMailDomainAt(s: string, start: number, end: number): boolean {
  if (end - start === lastDomain.length && s.startsWith(lastDomain, start)) return lastDomainOk;
  const domain = s.slice(start, end);
  lastDomainOk = isMailDomain(domain);
  lastDomain = domain;
  return lastDomainOk;
}

export function scanEmail(sc: ScanContext): void {
  const s = sc.text;
  const end = sc.end;
  let at = s.indexOf("@", sc.from);
  while (at !== -1 && at < end) {
    let a = at;
    while (a > 0 && at - a < 64 && isLocalCode(s.charCodeAt(a - 1))) a--;
    const esc = escBefore(s, at, at - a + 2);
    if (esc !== -1) {
      const q = csiEnd(s, esc);
      if (q !== -1 && q <= at) a = Math.max(a, q);
    }
    while (a < at && s.charCodeAt(a) === 46) a++;
    let b = at + 1;
    while (b < end && b - at < 255 && isDomainCode(s.charCodeAt(b))) b++;
    let e = b;
    while (e > at + 1 && (s.charCodeAt(e - 1) === 46 || s.charCodeAt(e - 1) === 45)) e--;
    const next = at + 1;
    if (
      a < at &&
      a >= sc.from &&
      e > at + 3 &&
      s.charCodeAt(at - 1) !== 46 &&
      (b >= end || s.charCodeAt(b) !== 95)
    ) {
      if (isMailDomainAt(s, at + 1, e) && !isUrlUserinfo(s, a)) {
        if (sc.isOn("email")) push(sc, "email", a, e, s.slice(a, e).toLowerCase());
        at = s.indexOf("@", e);
        continue;
      }
    }
    at = s.indexOf("@", next);
  }
}

// --- IPv6 and MAC --------------------------------------------------------------------------------

const isHexCode = (c: number): boolean => isDigitCode(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isAddrCode = (c: number): boolean => isHexCode(c) || c === 58 || c === 46;
const MAC_COLON = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const IPV4_TAIL = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function countGroups(part: string, allowV4Tail: boolean): number {
  if (part === "") return 0;
  const groups = part.split(":");
  let n = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (allowV4Tail && i === groups.length - 1 && g.includes(".")) {
      if (!IPV4_TAIL.test(g)) return -1;
      n += 2;
    } else if (HEX_GROUP.test(g)) n++;
    else return -1;
  }
  return n;
}

export function isIpv6(t: string): boolean {
  const dbl = t.indexOf("::");
  if (dbl === -1) return countGroups(t, true) === 8;
  if (t.indexOf("::", dbl + 1) !== -1) return false;
  const head = countGroups(t.slice(0, dbl), false);
  const tail = countGroups(t.slice(dbl + 2), true);
  if (head < 0 || tail < 0 || head + tail > 7) return false;
  if (t === "::1") return true;
  // `10:30::` and `a::b` are more often times and code than addresses.
  return head + tail >= 3 || /[0-9A-Fa-f]{3}/.test(t);
}

export function scanAddresses(sc: ScanContext): void {
  const s = sc.text;
  const end = sc.end;
  let c = s.indexOf(":", sc.from);
  while (c !== -1 && c < end) {
    let a = c;
    while (a > 0 && isAddrCode(s.charCodeAt(a - 1))) a--;
    let b = c + 1;
    while (b < end && isAddrCode(s.charCodeAt(b))) b++;
    let e = b;
    while (e > c + 1 && s.charCodeAt(e - 1) === 46) e--;
    const after = b < end ? s.charCodeAt(b) : 32;
    if (a >= sc.from && e - a >= 3 && isBoundaryBefore(s, a) && !isWordCode(after)) {
      const t = s.slice(a, e);
      if (MAC_COLON.test(t)) {
        if (sc.isOn("mac_address")) push(sc, "mac_address", a, e, t.toLowerCase());
      } else if (sc.isOn("ipv6") && isIpv6(t)) {
        push(sc, "ipv6", a, e, t.toLowerCase(), hasContext(sc, "ipv6", a));
      }
    }
    c = s.indexOf(":", Math.max(b, c + 1));
  }
}

// --- credentials in URLs --------------------------------------------------------------------------

const USER_STOP = /[\s:@/?#]/;
const PASS_STOP = /[\s@/?#]/;

export function scanUrlCredentials(sc: ScanContext): void {
  if (!sc.isOn("url_credentials")) return;
  const s = sc.text;
  const end = sc.end;
  let p = s.indexOf("://", Math.max(0, sc.from - 24));
  while (p !== -1 && p < end) {
    let a = p;
    while (a > 0 && p - a < 24 && /[A-Za-z0-9+.-]/.test(s[a - 1]!)) a--;
    const schemeOk = a < p && /[A-Za-z]/.test(s[a]!);
    let i = p + 3;
    while (i < end && i - p < 70 && !USER_STOP.test(s[i]!)) i++;
    if (schemeOk && s[i] === ":") {
      const passStart = i + 1;
      let j = passStart;
      while (j < end && j - passStart < 128 && !PASS_STOP.test(s[j]!)) j++;
      if (s[j] === "@" && j > passStart && passStart >= sc.from && !containsMasked(s.slice(passStart, j))) {
        push(sc, "url_credentials", passStart, j, s.slice(passStart, j));
      }
    }
    p = s.indexOf("://", p + 3);
  }
}
