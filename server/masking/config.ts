// Masking configuration: the defaults a new connection gets, and the compiled form the hot paths use
// (type set, style lookup, pseudonymizer, column rules), built once per config object.
import "server-only";

import { type CompiledRule, compileColumnRules, DEFAULT_COLUMN_RULES, matchKeyRule } from "./column-rules";
import { DETECTOR_TYPES, hintFromName } from "./detectors";
import { makePseudonymizer, type Renderer } from "./redact";
import type { MaskingConfig, MaskStyle } from "./types";

/** Defaults: every detector on, full labels except partial cards, emails and phones, default column rules. */
export function defaultMaskingConfig(pseudonymKey: string): MaskingConfig {
  return {
    defaultStyle: "full",
    styles: { credit_card: "partial", email: "partial", phone: "partial" },
    pseudonymKey,
    columnRules: [...DEFAULT_COLUMN_RULES],
  };
}

export interface CompiledConfig extends Renderer {
  isOn(type: string): boolean;
  readonly columnRules: readonly CompiledRule[];
  readonly anyColumnRules: boolean;
  /** Per JSON key (cached): the type a key rule masks its value as, and the key as context words. */
  keyInfo(key: string): KeyInfo;
}

export interface KeyInfo {
  type: string | undefined;
  hint: string;
}

const SECRET_KEY =
  /(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|session[_-]?key)$/i;

function keyType(
  rules: readonly CompiledRule[],
  isOn: (t: string) => boolean,
  key: string,
): string | undefined {
  const ruled = rules.length > 0 ? matchKeyRule(rules, key) : undefined;
  if (ruled) return ruled;
  const m = SECRET_KEY.exec(key);
  if (!m) return undefined;
  const type = /^(?:pass|pwd)/i.test(m[0]) ? "password" : "secret";
  return isOn(type) ? type : undefined;
}

const compiled = new WeakMap<MaskingConfig, CompiledConfig>();

export function compileConfig(cfg: MaskingConfig): CompiledConfig {
  let cc = compiled.get(cfg);
  if (cc) return cc;
  const styles = cfg.styles ?? {};
  const usesPseudonyms = cfg.defaultStyle === "pseudonym" || Object.values(styles).includes("pseudonym");
  if (usesPseudonyms && cfg.pseudonymKey === "") {
    throw new Error("masking config: pseudonymKey is required when a type is shown as a pseudonym");
  }
  const enabled = cfg.enabledTypes ? new Set(cfg.enabledTypes) : null;
  const all = new Set(DETECTOR_TYPES);
  const columnRules = compileColumnRules(cfg.columnRules);
  const pseudonym = makePseudonymizer(cfg.pseudonymKey);
  const isOn = enabled ? (type: string) => enabled.has(type) : (type: string) => all.has(type);
  const keys = new Map<string, KeyInfo>();
  cc = {
    isOn,
    styleOf: (type: string): MaskStyle => styles[type] ?? cfg.defaultStyle,
    pseudonym,
    columnRules,
    anyColumnRules: columnRules.length > 0,
    keyInfo: (key) => {
      let info = keys.get(key);
      if (!info) {
        info = { type: keyType(columnRules, isOn, key), hint: hintFromName(key) };
        if (keys.size >= 10_000) keys.clear();
        keys.set(key, info);
      }
      return info;
    },
  };
  compiled.set(cfg, cc);
  return cc;
}
