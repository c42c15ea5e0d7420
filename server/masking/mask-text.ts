// Masking free text. The engine cuts text into segments and masks each with the detectors; the stream
// masker (./stream-masker.ts) uses the same pieces, so a stream and a whole text give the same output.
//
// Segments: detection in a segment sees the text before it (look-backs for context keywords, keys and
// quotes are bounded by CONTEXT_KEEP) but nothing after it. A cut is only made where no detection can
// cross it: after a newline or tab, or after a space that follows a token that cannot be part of a
// multi-token value (values with inner spaces - cards, phones, IBANs - are digits, upper-case letters
// and ()+-./), not inside an open quoted secret (`password: "two words`) and not inside a PEM header.
//
// Idempotence: masking changes the surroundings of nearby text. A value glued to a detected one without
// a separator was rejected because its neighbour is a letter; a word inside a detected value vetoed a
// nearby one (`...version 7.30.30.3`); a partial rendering keeps characters that can join a neighbour.
// So after rendering, the detectors look again at the output around each masked value; what they find
// there is added (new values) or merged into the value it overlaps, shown as a full label. This repeats
// until the output is stable, so masking the output again changes nothing.
//
// PEM private keys are a mode, not a detector: see ./pem.ts.
import "server-only";

import { type CompiledConfig, compileConfig } from "./config";
import { detectSegment, hintFromName, mayDetect, scoreOf } from "./detectors";
import { findPemHeader, scanPemBody } from "./pem";
import { fullLabel, renderMasked } from "./redact";
import type { Candidate, Finding, MaskingConfig, MaskTextResult } from "./types";

/** Text kept before a segment for look-backs; every detector looks back less than this. */
export const CONTEXT_KEEP = 300;
/** Output around a masked value that is looked at again; wider only when a detection reaches the edge. */
const RECHECK_MARGIN = 128;
const MAX_ROUNDS = 6;

/** How far a re-check window is stretched to reach whitespace, so it does not start inside a value. */
const WORD_REACH = 4096;

const isSpaceCode = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

function wordStart(s: string, i: number): number {
  for (let j = i; j > 0 && i - j < WORD_REACH; j--) if (isSpaceCode(s.charCodeAt(j - 1))) return j;
  return 0;
}

function wordEnd(s: string, i: number): number {
  for (let j = i; j < s.length && j - i < WORD_REACH; j++) if (isSpaceCode(s.charCodeAt(j))) return j;
  return s.length;
}

interface Rendered {
  text: string;
  /** Start and end in `text` of each masked value, parallel to the candidates. */
  at: Array<[number, number]>;
}

/**
 * Masks consecutive segments of one input, carrying the context between them: the original text (for
 * detection) and the output (for the re-check). `offset` arguments are positions in the whole input.
 */
export class SegmentMasker {
  private original = "";
  private output = "";
  /** Characters from the end of `output` back to the end of the last masked value in it, or -1. */
  private sinceMasked = -1;

  constructor(
    private readonly cc: CompiledConfig,
    private readonly hint: string,
    private readonly report: ((f: Finding) => void) | undefined,
  ) {}

  /** Masks `segment`; `endsInValue` says whether a masked value reaches its last character. */
  mask(segment: string, offset: number, detected?: Candidate[]): { text: string; endsInValue: boolean } {
    const from = this.original.length;
    const s = from === 0 ? segment : this.original + segment;
    let cands =
      detected && from === 0 ? detected : detectSegment(s, from, { isOn: this.cc.isOn, hint: this.hint });
    const full = new Set<Candidate>();
    const recentBefore = this.sinceMasked !== -1 && this.sinceMasked <= RECHECK_MARGIN;
    let r = this.render(s, from, cands, full);
    for (let round = 0; round < MAX_ROUNDS && (cands.length > 0 || (round === 0 && recentBefore)); round++) {
      const again = this.recheck(r, recentBefore && round === 0);
      if (again.length === 0) break;
      cands = this.merge(s, from, cands, r, again, full);
      r = this.render(s, from, cands, full);
    }
    for (const c of cands)
      this.report?.({ type: c.type, start: offset + c.start - from, end: offset + c.end - from });
    this.keep(segment, r);
    const last = cands.at(-1);
    return { text: r.text, endsInValue: last !== undefined && last.end === s.length };
  }

  /** Text consumed without detection (a PEM block) and what was shown for it. */
  skip(original: string, shown: string): void {
    this.keep(original, { text: shown, at: shown === "" ? [] : [[0, shown.length]] });
  }

  private render(
    s: string,
    from: number,
    cands: readonly Candidate[],
    full: ReadonlySet<Candidate>,
  ): Rendered {
    if (cands.length === 0) return { text: from === 0 ? s : s.slice(from), at: [] };
    const parts: string[] = [];
    const at: Array<[number, number]> = [];
    let pos = from;
    let len = 0;
    for (const c of cands) {
      const plain = s.slice(pos, c.start);
      const shown = full.has(c)
        ? fullLabel(c.type)
        : renderMasked(this.cc, c.type, s.slice(c.start, c.end), c.norm);
      parts.push(plain, shown);
      len += plain.length;
      at.push([len, len + shown.length]);
      len += shown.length;
      pos = c.end;
    }
    parts.push(s.slice(pos));
    return { text: parts.join(""), at };
  }

  /** Detections in the rendered segment near masked values (positions relative to the segment). */
  private recheck(r: Rendered, afterPrevious: boolean): Candidate[] {
    const ctx = this.output;
    const view = ctx + r.text;
    const opts = { isOn: this.cc.isOn, hint: this.hint };
    const anchors: Array<[number, number]> = afterPrevious ? [[0, 0], ...r.at] : r.at;
    const found: Candidate[] = [];
    let i = 0;
    while (i < anchors.length) {
      let end = anchors[i]![1];
      let j = i + 1;
      while (j < anchors.length && anchors[j]![0] - end < 2 * RECHECK_MARGIN) end = anchors[j++]![1];
      let ws = wordStart(r.text, Math.max(0, anchors[i]![0] - RECHECK_MARGIN));
      let we = wordEnd(r.text, Math.min(r.text.length, end + RECHECK_MARGIN));
      for (;;) {
        const sub = we === r.text.length ? view : view.slice(0, ctx.length + we);
        const cands = detectSegment(sub, ctx.length + ws, opts);
        // A detection touching an edge of the window may be cut short by it (values with inner spaces):
        // widen that side and look again.
        const cutLeft = ws > 0 && cands.some((c) => c.start === ctx.length + ws);
        const cutRight = we < r.text.length && cands.some((c) => c.end === sub.length);
        if (cutLeft || cutRight) {
          if (cutLeft) ws = wordStart(r.text, Math.max(0, ws - 1 - RECHECK_MARGIN));
          if (cutRight) we = wordEnd(r.text, Math.min(r.text.length, we + 1 + RECHECK_MARGIN));
          continue;
        }
        for (const c of cands) {
          const start = c.start - ctx.length;
          const end = c.end - ctx.length;
          // Windows of neighbouring clusters may overlap; keep each detection once.
          if (!found.some((f) => f.start === start && f.end === end)) found.push({ ...c, start, end });
        }
        break;
      }
      i = j;
    }
    return found;
  }

  /**
   * Folds re-check detections (in rendered coordinates) into the candidates (in `s` coordinates). One
   * that overlaps a masked value widens it and makes it a full label; one beside them is a new value.
   */
  private merge(
    s: string,
    from: number,
    cands: Candidate[],
    r: Rendered,
    again: readonly Candidate[],
    full: Set<Candidate>,
  ): Candidate[] {
    // Rendered position -> original position: shift by the masked values before it; inside one, its edges.
    const toOriginal = (p: number, isEnd: boolean): number => {
      let delta = from;
      for (let k = 0; k < cands.length; k++) {
        const [a, b] = r.at[k]!;
        const c = cands[k]!;
        if (isEnd ? p <= a : p < a) break;
        if (isEnd ? p <= b : p < b) return isEnd ? c.end : c.start;
        delta = c.end - b;
      }
      return p + delta;
    };
    let out = [...cands];
    for (const a of again) {
      const start = toOriginal(a.start, false);
      const end = toOriginal(a.end, true);
      const hit = out.filter((c) => c.start < end && start < c.end);
      if (hit.length === 0) {
        out.push({ type: a.type, start, end, score: a.score, norm: a.norm });
        continue;
      }
      const best = [a, ...hit].reduce((x, y) => (scoreOf(y.type) > scoreOf(x.type) ? y : x));
      const merged: Candidate = {
        type: best.type,
        start: Math.min(start, ...hit.map((c) => c.start)),
        end: Math.max(end, ...hit.map((c) => c.end)),
        score: best.score,
        norm: s.slice(Math.min(start, ...hit.map((c) => c.start)), Math.max(end, ...hit.map((c) => c.end))),
      };
      full.add(merged);
      out = out.filter((c) => !hit.includes(c));
      out.push(merged);
    }
    return out.sort((x, y) => x.start - y.start);
  }

  private keep(original: string, r: Rendered): void {
    this.original += original;
    this.output += r.text;
    const last = r.at.at(-1);
    if (last) this.sinceMasked = r.text.length - last[1];
    else if (this.sinceMasked !== -1) this.sinceMasked += r.text.length;
    if (this.original.length > CONTEXT_KEEP * 2) this.original = this.original.slice(-CONTEXT_KEEP);
    if (this.output.length > CONTEXT_KEEP * 2) this.output = this.output.slice(-CONTEXT_KEEP);
  }
}

/**
 * What masking a text needs per config and context hint: the detector options and which renderings the
 * detectors find nothing in (see wholeValue). Looked up once per result column (ResultMasker keeps one per
 * column), not per cell: columns alternate cell after cell, and a per-cell look-up cost two map reads and an
 * object each time the column changed.
 */
export interface TextScope {
  readonly cc: CompiledConfig;
  readonly hint: string;
  readonly options: { isOn(type: string): boolean; hint: string };
  /** rendering -> the detectors find nothing in it (a cache: dropping it changes nothing but time) */
  readonly renderings: Map<string, boolean>;
  /** The rendering judged last and its verdict: a column's renderings repeat in runs (`u***@example.com`). */
  lastShown: string;
  lastClean: boolean;
}

const scopes = new WeakMap<CompiledConfig, Map<string, TextScope>>();
const CLEAN_RENDERINGS_LIMIT = 16_384;
/** The scope looked up last (text masked outside a result asks for the same one again and again). */
let lastScope: TextScope | undefined;

export function textScope(cc: CompiledConfig, hint: string): TextScope {
  if (lastScope?.cc === cc && lastScope.hint === hint) return lastScope;
  let byHint = scopes.get(cc);
  if (!byHint) {
    byHint = new Map();
    scopes.set(cc, byHint);
  }
  let scope = byHint.get(hint);
  if (!scope) {
    if (byHint.size >= 256) byHint.clear();
    scope = {
      cc,
      hint,
      options: { isOn: cc.isOn, hint },
      renderings: new Map(),
      lastShown: "",
      lastClean: false,
    };
    byHint.set(hint, scope);
  }
  lastScope = scope;
  return scope;
}

function isCleanRendering(scope: TextScope, shown: string): boolean {
  if (shown === scope.lastShown) return scope.lastClean;
  // Most partial renderings of numbers (`+* (***) ***-1234`) leave no family anything to look at.
  if (!mayDetect(shown)) return true;
  const known = scope.renderings;
  let clean = known.get(shown);
  if (clean === undefined) {
    clean = detectSegment(shown, 0, scope.options).length === 0;
    if (known.size >= CLEAN_RENDERINGS_LIMIT) known.clear();
    known.set(shown, clean);
  }
  scope.lastShown = shown;
  scope.lastClean = clean;
  return clean;
}

/**
 * A text that is exactly one detected value (a cell holding an email, a phone number...) masked without the
 * segment machinery, with the same outcome: SegmentMasker renders it and re-checks the output, which here is
 * the rendering alone (nothing around it), so when the detectors find nothing in the rendering, the rendering
 * is the answer. Renderings repeat (`j***@example.com`), so that check is remembered. Undefined when the fast
 * path does not apply.
 */
function wholeValue(scope: TextScope, text: string, first: Candidate[]): string | undefined {
  if (first.length !== 1) return undefined;
  const only = first[0]!;
  if (only.start !== 0 || only.end !== text.length) return undefined;
  const shown = renderMasked(scope.cc, only.type, text, only.norm);
  return isCleanRendering(scope, shown) ? shown : undefined;
}

const hasPemHeader = (cc: CompiledConfig, text: string): boolean =>
  cc.isOn("private_key") && text.indexOf("-----BEGIN ") !== -1;

/**
 * maskTextCompiled for a caller that needs only which types were found (a result cell), with fewer allocations:
 * pushes the type of each finding onto `types` and returns the masked text (`text` itself when nothing was found).
 */
export function maskTextTypes(cc: CompiledConfig, text: string, hint: string, types: string[]): string {
  return maskTextInScope(textScope(cc, hint), text, types);
}

/** maskTextTypes with the config and hint looked up already (a result column's cells). */
export function maskTextInScope(scope: TextScope, text: string, types: string[]): string {
  const cc = scope.cc;
  if (!hasPemHeader(cc, text)) {
    const first = detectSegment(text, 0, scope.options);
    if (first.length === 0) return text;
    const shown = wholeValue(scope, text, first);
    if (shown !== undefined) {
      types.push(first[0]!.type);
      return shown;
    }
  }
  const r = maskTextCompiled(cc, text, scope.hint);
  if (r.findings.length === 0) return text;
  for (const f of r.findings) types.push(f.type);
  return r.text;
}

/** `fastPath: false` always takes the segment machinery (the tests compare both). */
export function maskTextCompiled(
  cc: CompiledConfig,
  text: string,
  hint: string,
  fastPath = true,
): MaskTextResult {
  // Fast path: most text holds nothing to mask.
  const first = hasPemHeader(cc, text) ? null : detectSegment(text, 0, { isOn: cc.isOn, hint });
  if (first !== null && first.length === 0) return { text, findings: [] };
  const whole = first !== null && fastPath ? wholeValue(textScope(cc, hint), text, first) : undefined;
  if (whole !== undefined)
    return { text: whole, findings: [{ type: first![0]!.type, start: 0, end: text.length }] };
  const findings: Finding[] = [];
  const report = (f: Finding): void => {
    findings.push(f);
  };
  const segments = new SegmentMasker(cc, hint, report);
  if (first !== null) return { text: segments.mask(text, 0, first).text, findings };
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const header = findPemHeader(text, pos);
    const segEnd = header ? header.start : text.length;
    if (segEnd > pos) out.push(segments.mask(text.slice(pos, segEnd), pos).text);
    if (!header) break;
    const body = scanPemBody(text, header.end, true);
    const label = fullLabel("private_key");
    out.push(label);
    report({ type: "private_key", start: header.start, end: body.end });
    segments.skip(text.slice(header.start, body.end), label);
    pos = body.end;
  }
  return { text: out.join(""), findings };
}

export interface MaskTextOptions {
  /** Words describing where the text came from (a column or field name); counts as context. */
  context?: string;
}

/**
 * Masks every detected value in `text`. Findings give type and position in the original text, never
 * the value.
 */
export function maskText(text: string, cfg: MaskingConfig, opts: MaskTextOptions = {}): MaskTextResult {
  return maskTextCompiled(compileConfig(cfg), text, opts.context ? hintFromName(opts.context) : "");
}
