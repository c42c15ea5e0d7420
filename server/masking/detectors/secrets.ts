// Secrets family: vendor tokens recognised by their documented prefixes and shapes (AWS, GitHub, GitLab,
// Slack, Stripe, Google, OpenAI, Anthropic, npm, PyPI, SendGrid, Hugging Face, DigitalOcean, Shopify),
// JWTs, Bearer/Basic credentials, `password=`/`secret:`/`token=` assignments and high-entropy values in
// key=value form. PEM private keys span lines and are handled by the masking engine, not here.
import "server-only";

import type { ScanContext } from "../types";
import { scoreOf } from "./catalog";
import { containsMasked, csiEndsAt, isWordCode } from "./context";

function push(sc: ScanContext, type: string, start: number, end: number): void {
  if (start < sc.from) return;
  sc.out.push({ type, start, end, score: scoreOf(type), norm: sc.text.slice(start, end) });
}

// --- vendor prefixes -----------------------------------------------------------------------------

const PREFIX =
  /(?:A(?:KIA|SIA|BIA|CCA|Iza)|gh[pousr]_|github_pat_|glpat-|xox[abeoprs]-|[spr]k_(?:live|test)_|sk-|npm_|pypi-|SG\.|hf_|do[opr]_v1_|shp(?:at|ca|pa|ss)_|eyJ|https:\/\/hooks\.slack\.com\/|[Bb]earer +|[Bb]asic +)/g;

interface TokenShape {
  type: string;
  re: RegExp;
  check?: (token: string) => boolean;
}

const hasMixedClasses = (t: string): boolean => /\d/.test(t) && /[a-z]/.test(t) && /[A-Z]/.test(t);

function isJwt(token: string): boolean {
  const header = token.slice(0, token.indexOf("."));
  try {
    const json: unknown = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    return typeof json === "object" && json !== null && typeof (json as { alg?: unknown }).alg === "string";
  } catch {
    return false;
  }
}

function isBasicCredential(value: string): boolean {
  const decoded = Buffer.from(value, "base64").toString("utf8");
  return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded) && decoded.indexOf(":") > 0;
}

const SHAPES: ReadonlyArray<[prefix: RegExp, shape: TokenShape]> = [
  [/^A(?:KIA|SIA|BIA|CCA)$/, { type: "aws_access_key_id", re: /A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}/y }],
  [/^AIza$/, { type: "google_api_key", re: /AIza[0-9A-Za-z_-]{35}/y }],
  [/^gh[pousr]_$/, { type: "github_token", re: /gh[pousr]_[A-Za-z0-9]{36,251}/y }],
  [/^github_pat_$/, { type: "github_token", re: /github_pat_[A-Za-z0-9_]{22,255}/y }],
  [/^glpat-$/, { type: "gitlab_token", re: /glpat-[A-Za-z0-9_-]{20,64}/y }],
  [/^xox/, { type: "slack_token", re: /xox[abeoprs]-[A-Za-z0-9-]{10,250}/y, check: (t) => /\d/.test(t) }],
  [/^[spr]k_/, { type: "stripe_key", re: /[spr]k_(?:live|test)_[A-Za-z0-9]{10,247}/y }],
  [/^npm_$/, { type: "npm_token", re: /npm_[A-Za-z0-9]{36}/y }],
  [/^pypi-$/, { type: "pypi_token", re: /pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/y }],
  [/^SG\.$/, { type: "sendgrid_api_key", re: /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/y }],
  [/^hf_$/, { type: "huggingface_token", re: /hf_[A-Za-z0-9]{34,40}/y }],
  [/^do[opr]_v1_$/, { type: "digitalocean_token", re: /do[opr]_v1_[a-f0-9]{64}/y }],
  [/^shp/, { type: "shopify_token", re: /shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}/y }],
  [/^eyJ$/, { type: "jwt", re: /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/y, check: isJwt }],
  [
    /^https/,
    {
      type: "slack_webhook_url",
      re: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{16,32}/y,
    },
  ],
];

const ANTHROPIC = /sk-ant-[A-Za-z0-9_-]{20,200}/y;
const OPENAI = /sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}/y;
const BEARER_VALUE = /[A-Za-z0-9._~+/-]{16,4096}=*/y;
const BASIC_VALUE = /[A-Za-z0-9+/]{8,1024}={0,2}/y;

function stickyAt(re: RegExp, s: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(s);
  return m ? m[0] : null;
}

/** A token must not run on into more word characters (then it is part of something longer). */
const endsCleanly = (s: string, end: number): boolean => end >= s.length || !isWordCode(s.charCodeAt(end));

function matchPrefix(sc: ScanContext, s: string, at: number, prefix: string): number {
  const first = prefix.charCodeAt(0);
  if (first === 66 || first === 98) {
    // Bearer / Basic: the credential follows the scheme word.
    const valueAt = at + prefix.length;
    const isBearer = prefix[1] === "e";
    const value = stickyAt(isBearer ? BEARER_VALUE : BASIC_VALUE, s, valueAt);
    if (value === null || containsMasked(value) || !endsCleanly(s, valueAt + value.length))
      return at + prefix.length;
    const type = isBearer ? "bearer_token" : "basic_auth";
    const ok = isBearer ? /[0-9A-Z._~+/-]/.test(value) : isBasicCredential(value);
    if (ok && sc.isOn(type)) push(sc, type, valueAt, valueAt + value.length);
    // Rescan the value: a JWT or vendor token inside it is the more specific detection.
    return valueAt;
  }
  if (prefix === "sk-") {
    const ant = stickyAt(ANTHROPIC, s, at);
    if (ant !== null && endsCleanly(s, at + ant.length)) {
      if (sc.isOn("anthropic_api_key")) push(sc, "anthropic_api_key", at, at + ant.length);
      return at + ant.length;
    }
    const oai = stickyAt(OPENAI, s, at);
    if (oai !== null && endsCleanly(s, at + oai.length) && hasMixedClasses(oai)) {
      if (sc.isOn("openai_api_key")) push(sc, "openai_api_key", at, at + oai.length);
      return at + oai.length;
    }
    return at + prefix.length;
  }
  for (const [test, shape] of SHAPES) {
    if (!test.test(prefix)) continue;
    const token = stickyAt(shape.re, s, at);
    if (token === null || !endsCleanly(s, at + token.length)) return at + prefix.length;
    if (shape.check && !shape.check(token)) return at + prefix.length;
    if (sc.isOn(shape.type)) push(sc, shape.type, at, at + token.length);
    return at + token.length;
  }
  return at + prefix.length;
}

export function scanPrefixed(sc: ScanContext): void {
  const s = sc.text;
  // Bearer/Basic values may start right at `from` with the scheme word before it.
  PREFIX.lastIndex = Math.max(0, sc.from - 16);
  for (let m = PREFIX.exec(s); m !== null; m = PREFIX.exec(s)) {
    const b = m.index > 0 ? s.charCodeAt(m.index - 1) : 32;
    if ((b === 45 || isWordCode(b)) && !csiEndsAt(s, m.index)) {
      PREFIX.lastIndex = m.index + 1;
      continue;
    }
    PREFIX.lastIndex = Math.max(PREFIX.lastIndex, matchPrefix(sc, s, m.index, m[0]));
  }
}

// --- key = value ---------------------------------------------------------------------------------

const ASSIGN =
  /(pass(?:word|wd|phrase)|pwd|secret[_-]?(?:access[_-]?)?key|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|session[_-]?key)(["']?)[ \t]{0,3}(=>|:=|=|:)[ \t]{0,3}(["']?)/gi;

/** How far before a value the key and separator may start; bounds the stream masker's look-back. */
export const ASSIGN_LOOKBACK = 48;

const PLACEHOLDER =
  /^(?:\*+|x{3,}|null|none|nil|undefined|true|false|yes|no|on|off|empty|redacted|hidden|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%s|%\(\w+\)s|\{\{.*\}\}|\?+)$/i;
const VALUE_STOP = new Set([..." \t\r\n\"'`,;&<>)]}"].map((c) => c.charCodeAt(0)));

function keyBefore(s: string, end: number): string {
  let a = end;
  while (a > 0 && end - a < 64 && /[A-Za-z0-9_.-]/.test(s[a - 1]!)) a--;
  return s.slice(a, end);
}

const LABEL = /\[[A-Z0-9_]+\]/y;

/** End of an unquoted value: whitespace, quotes, separators, or a `[LABEL]` a masking pass left. */
function unquotedEnd(s: string, at: number, end: number): number {
  let j = at;
  for (; j < end; j++) {
    const c = s.charCodeAt(j);
    if (VALUE_STOP.has(c)) break;
    if (c === 91) {
      LABEL.lastIndex = j;
      if (LABEL.test(s)) break;
    }
  }
  return j;
}

export function scanAssignments(sc: ScanContext): void {
  const s = sc.text;
  const end = sc.end;
  ASSIGN.lastIndex = Math.max(0, sc.from - ASSIGN_LOOKBACK);
  for (let m = ASSIGN.exec(s); m !== null; m = ASSIGN.exec(s)) {
    const at = m.index + m[0].length;
    const quote = m[4]!;
    let valueEnd = -1;
    if (quote !== "") {
      const close = s.indexOf(quote, at);
      if (close > at && close - at <= 200 && !s.slice(at, close).includes("\n")) valueEnd = close;
    }
    if (valueEnd === -1) valueEnd = unquotedEnd(s, at, end);
    if (valueEnd <= at || at < sc.from) continue;
    const value = s.slice(at, valueEnd);
    // A sentence may end right after the value; the dot is masked with it but not judged.
    const core = quote === "" ? value.replace(/[.,:]+$/, "") : value;
    const keyword = m[1]!.toLowerCase();
    if (PLACEHOLDER.test(core) || containsMasked(core) || !/[A-Za-z0-9]/.test(core)) continue;
    if (keyword === "pwd" && (core.startsWith("/") || core.startsWith("~"))) continue;
    const key = keyBefore(s, m.index) + m[1]!;
    let type = keyword.startsWith("pass") || keyword === "pwd" ? "password" : "secret";
    if (/aws/i.test(key) && /secret/i.test(key) && /^[A-Za-z0-9/+]{40}$/.test(core))
      type = "aws_secret_access_key";
    if (sc.isOn(type)) push(sc, type, at, valueEnd);
    // Go on from the value, not past it: `pwd=x-api_key=y` holds a second assignment.
    ASSIGN.lastIndex = at;
  }
}

// --- high entropy --------------------------------------------------------------------------------

const ENTROPY_VALUE =
  /[=:][ \t]{0,3}["']?([A-Za-z0-9+/_-]{20,4096}={0,3})(?![A-Za-z0-9+/_=-]|\.[A-Za-z0-9_-])/g;
const SECRET_KEYWORD =
  /(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)$/i;
/** Keys whose values are random by design but not secret: digests, ids, versions, names, paths. */
const INERT_KEY =
  /(?:hash|sha\d*|md5|digest|checksum|integrity|etag|uuid|guid|trace\w*|span\w*|request\w*|correlation\w*|commit|rev|revision|version|path|url|uri|href|file\w*|name|id|ids|type|class|image|ref|cursor|page\w*|offset)$/i;
const HEXISH = /^[0-9a-fA-F-]+$/;

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Entropy (bits per character) that 99.9% of random base62/base64 strings of this length reach
 * (measured: 3.44 at 20 characters, 4.09 at 32, 4.81 at 64); hex digests stay below 4.
 */
export function entropyThreshold(length: number): number {
  return Math.min(4.5, 0.78 * Math.log2(length));
}

const charClass = (c: number): number =>
  c >= 97 && c <= 122 ? 0 : c >= 65 && c <= 90 ? 1 : c >= 48 && c <= 57 ? 2 : 3;

/**
 * Share of neighbouring characters of different classes (lower, upper, digit, other). Random strings
 * switch about 65% of the time (1st percentile 0.37 at 20 characters); CamelCase identifiers such as
 * `MyApplication2024Release1` about 30%.
 */
export function classSwitchRatio(s: string): number {
  let switches = 0;
  for (let i = 1; i < s.length; i++)
    if (charClass(s.charCodeAt(i)) !== charClass(s.charCodeAt(i - 1))) switches++;
  return switches / (s.length - 1);
}

export function isHighEntropySecret(value: string): boolean {
  const v = value.replace(/=+$/, "");
  if (v.length < 20 || HEXISH.test(v) || !hasMixedClasses(v)) return false;
  let digits = 0;
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) digits++;
  if (digits < 2 || classSwitchRatio(v) < 0.34) return false;
  return shannonEntropy(v) >= entropyThreshold(v.length);
}

export function scanHighEntropy(sc: ScanContext): void {
  if (!sc.isOn("high_entropy_secret")) return;
  const s = sc.text;
  ENTROPY_VALUE.lastIndex = Math.max(0, sc.from - 8);
  for (let m = ENTROPY_VALUE.exec(s); m !== null; m = ENTROPY_VALUE.exec(s)) {
    const value = m[1]!;
    const at = m.index + m[0].length - value.length;
    if (at < sc.from || containsMasked(value)) continue;
    let keyEnd = m.index;
    while (keyEnd > 0 && (s[keyEnd - 1] === " " || s[keyEnd - 1] === "\t")) keyEnd--;
    if (keyEnd > 0 && (s[keyEnd - 1] === '"' || s[keyEnd - 1] === "'")) keyEnd--;
    const key = keyBefore(s, keyEnd);
    if (key === "" || SECRET_KEYWORD.test(key) || INERT_KEY.test(key)) continue;
    if (isHighEntropySecret(value)) push(sc, "high_entropy_secret", at, at + value.length);
  }
}
