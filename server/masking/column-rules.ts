// Column rules: globs over connection.schema.table.column that mark a column as always masked with a
// type, whatever its content. Also decides which rules apply to JSON keys. Does not render anything.
import "server-only";

import type { ColumnRef, ColumnRule } from "./types";

/** Columns masked out of the box; single-segment patterns match the column name in any table. */
export const DEFAULT_COLUMN_RULES: readonly ColumnRule[] = [
  { pattern: "*password*", type: "password" },
  { pattern: "*passwd*", type: "password" },
  { pattern: "*passphrase*", type: "password" },
  { pattern: "*secret*", type: "secret" },
  { pattern: "*token", type: "secret" },
  { pattern: "*api_key*", type: "secret" },
  { pattern: "*apikey*", type: "secret" },
  { pattern: "*private_key*", type: "private_key" },
  { pattern: "ssn", type: "us_ssn" },
  { pattern: "*_ssn", type: "us_ssn" },
  { pattern: "ssn_*", type: "us_ssn" },
  { pattern: "*card_number*", type: "credit_card" },
  { pattern: "credit_card*", type: "credit_card" },
  { pattern: "cc_number", type: "credit_card" },
  { pattern: "*_cc_number", type: "credit_card" },
  { pattern: "cvv*", type: "cvv" },
  { pattern: "*_cvv*", type: "cvv" },
  { pattern: "cvc", type: "cvv" },
  { pattern: "*_cvc", type: "cvv" },
];

export interface CompiledRule {
  readonly type: string;
  readonly segments: readonly RegExp[];
  /** True when every segment before the last is `*`, so the rule can judge a JSON key on its own. */
  readonly appliesToKeys: boolean;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "i");
}

export function compileColumnRules(rules: readonly ColumnRule[]): CompiledRule[] {
  return rules.map((rule) => {
    const parts = rule.pattern.split(".");
    return {
      type: rule.type,
      segments: parts.map(globToRegExp),
      appliesToKeys: parts.slice(0, -1).every((p) => /^\*+$/.test(p)),
    };
  });
}

/** Type of the first rule matching the column, aligned from the right on connection.schema.table.column. */
export function matchColumnRule(rules: readonly CompiledRule[], column: ColumnRef): string | undefined {
  const parts = [column.connection ?? "", column.schema ?? "", column.table ?? "", column.name];
  for (const rule of rules) {
    const n = rule.segments.length;
    if (n > parts.length) continue;
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = rule.segments[i]!.test(parts[parts.length - n + i]!);
    if (ok) return rule.type;
  }
  return undefined;
}

/** Type of the first rule that applies to a JSON object key. */
export function matchKeyRule(rules: readonly CompiledRule[], key: string): string | undefined {
  for (const rule of rules) {
    if (rule.appliesToKeys && rule.segments[rule.segments.length - 1]!.test(key)) return rule.type;
  }
  return undefined;
}
