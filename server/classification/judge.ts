// How a column is judged from counts: which detector type was found most, its share of the values examined
// (the confidence), and whether that makes it a proposal. Pure: no store, no target, no clock. Values are
// looked at here one by one and only their types are kept.
import "server-only";

import { defaultMaskingConfig, type MaskingConfig, maskValue } from "@/server/masking";

/** A column is proposed when at least this share of its examined values hold one type... */
export const PROPOSE_SHARE = 0.5;
/** ...and at least this many values did (two cards in a table of two rows prove little). */
export const PROPOSE_MIN_VALUES = 3;

export type Counts = Record<string, number>;

export interface Judgement {
  detectedType: string | null;
  confidence: number;
  isProposal: boolean;
}

/** The detectors only: no column rule may decide what a value is. */
const detectOnly: MaskingConfig = { ...defaultMaskingConfig(""), styles: {}, columnRules: [] };

/** The detector types found in one value (its column's name is context, as in results). */
export function typesIn(value: unknown, column: string): string[] {
  if (value === null || value === undefined || typeof value === "boolean") return [];
  return maskValue(value, detectOnly, { name: column }).types;
}

/** Adds `more` into `into`. */
export function addCounts(into: Counts, more: Counts): Counts {
  for (const [type, n] of Object.entries(more)) into[type] = (into[type] ?? 0) + n;
  return into;
}

/** Judges a column from sampled and learned counts together. */
export function judge(values: number, counts: Counts): Judgement {
  let detectedType: string | null = null;
  let top = 0;
  for (const [type, n] of Object.entries(counts)) {
    if (n > top || (n === top && detectedType !== null && type < detectedType)) {
      detectedType = type;
      top = n;
    }
  }
  const confidence = values > 0 ? Math.min(1, top / values) : 0;
  return {
    detectedType,
    confidence: Math.round(confidence * 1000) / 1000,
    isProposal: detectedType !== null && top >= PROPOSE_MIN_VALUES && confidence >= PROPOSE_SHARE,
  };
}
