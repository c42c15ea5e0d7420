// Reading expressions as EXPLAIN VERBOSE prints them: the names, parameters and subplan references in one, with
// string literals skipped, and the few forms that reveal nothing of a value taken out. Pure; knows nothing of
// plans (./lineage.ts resolves what the names refer to).
import "server-only";

export const IDENT = `(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)`;
const REF = `${IDENT}(?:\\.(?:${IDENT}|\\*))*`;
/**
 * Expressions that reveal nothing of a value: whether it is null, and how many are not. Kept short on purpose.
 * `count(x) FILTER (...)` is not here: its filter reads the value.
 */
const REVEALS_NOTHING = [
  new RegExp(`\\bcount\\((?:\\*|${REF})\\)(?!\\s*FILTER)`, "g"),
  new RegExp(`\\(${REF} IS (?:NOT )?NULL\\)`, "g"),
];

export function withoutRevealingNothing(expr: string): string {
  let out = expr;
  for (const re of REVEALS_NOTHING) out = out.replace(re, "");
  return out;
}

export type Token =
  | { kind: "name"; parts: string[]; call: boolean; type: boolean }
  | { kind: "param"; name: string }
  | { kind: "subplan"; name: string };

export function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident;
}

/** The names, parameters and subplan references in an expression (string literals skipped). */
export function scanExpression(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let afterCast = false;
  const n = expr.length;
  while (i < n) {
    const ch = expr[i]!;
    if (ch === "'" || ((ch === "E" || ch === "e") && expr[i + 1] === "'")) {
      const escapes = ch !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && expr[i] === "\\") i += 2;
        else if (expr[i] === "'" && expr[i + 1] === "'") i += 2;
        else if (expr[i] === "'") break;
        else i++;
      }
      i++;
      afterCast = false;
      continue;
    }
    if (ch === ":" && expr[i + 1] === ":") {
      afterCast = true;
      i += 2;
      continue;
    }
    if (ch === "$" && /[0-9]/.test(expr[i + 1] ?? "")) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(expr[j]!)) j++;
      out.push({ kind: "param", name: expr.slice(i, j) });
      i = j;
      continue;
    }
    if (ch === '"' || /[A-Za-z_]/.test(ch)) {
      const parts: string[] = [];
      let j = i;
      for (;;) {
        const m = new RegExp(`^${IDENT}`).exec(expr.slice(j));
        if (!m) break;
        parts.push(unquote(m[0]));
        j += m[0].length;
        if (expr[j] === "." && expr[j + 1] === "*") {
          parts.push("*");
          j += 2;
          break;
        }
        if (expr[j] === "." && /["A-Za-z_]/.test(expr[j + 1] ?? "")) {
          j++;
          continue;
        }
        break;
      }
      let k = j;
      while (expr[k] === " ") k++;
      const word = parts.length === 1 ? parts[0]! : "";
      if ((word === "SubPlan" || word === "InitPlan") && /[0-9]/.test(expr[k] ?? "")) {
        let e = k;
        while (e < n && /[0-9]/.test(expr[e]!)) e++;
        out.push({ kind: "subplan", name: `${word} ${expr.slice(k, e)}` });
        i = e;
        continue;
      }
      // Only a cast's first word is taken for a type: a later one (`character varying`) is read as a name,
      // which at worst masks a column that did not need it.
      // PostgreSQL prints a call with its parenthesis right after the name (`upper(`); a keyword before one
      // has a space (`ANY (`, `OVER (`), and stays a name.
      out.push({ kind: "name", parts, call: expr[j] === "(", type: afterCast });
      afterCast = false;
      i = j;
      continue;
    }
    if (ch !== " ") afterCast = false;
    i++;
  }
  return out;
}
