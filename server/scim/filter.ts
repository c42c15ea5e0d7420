/**
 * SCIM filters (RFC 7644 §3.4.2.2), the part identity providers send: comparisons (eq ne co sw ew pr gt ge lt le)
 * on an attribute path, joined by `and` / `or`, with `not ( … )` and parentheses. A filter is parsed into a value
 * and matched against a resource's plain JSON; attribute names are case-insensitive and string comparisons too,
 * as the RFC says for case-insensitive attributes (every attribute we expose is). Anything else is refused
 * with a message naming it (the caller answers 400 invalidFilter), never read as "match everything".
 * Not responsible for which attributes a resource has (resources.ts).
 */

export type Filter =
  | { op: "and" | "or"; left: Filter; right: Filter }
  | { op: "not"; filter: Filter }
  | { op: "pr"; path: string }
  | {
      op: "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
      path: string;
      value: string | number | boolean | null;
    };

export class FilterError extends Error {}

const COMPARE = new Set(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
const MAX_FILTER_LENGTH = 2000;

type Token = { kind: "word" | "string" | "(" | ")"; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? "";
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c, text: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < input.length && input[j] !== '"') {
        if (input[j] === "\\") j++;
        text += input[j] ?? "";
        j++;
      }
      if (j >= input.length) throw new FilterError("a quoted value is not closed");
      tokens.push({ kind: "string", text });
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9_.:$\-[\]]+/.exec(input.slice(i));
      if (!m) throw new FilterError(`unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: "word", text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

export function parseFilter(input: string): Filter {
  if (input.length > MAX_FILTER_LENGTH) throw new FilterError("the filter is too long");
  const tokens = tokenize(input);
  let at = 0;
  const peek = () => tokens[at];
  const word = (t: Token | undefined) => (t?.kind === "word" ? t.text.toLowerCase() : undefined);

  function parseOr(): Filter {
    let left = parseAnd();
    while (word(peek()) === "or") {
      at++;
      left = { op: "or", left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): Filter {
    let left = parseUnary();
    while (word(peek()) === "and") {
      at++;
      left = { op: "and", left, right: parseUnary() };
    }
    return left;
  }
  function parseUnary(): Filter {
    const t = peek();
    if (word(t) === "not") {
      at++;
      if (peek()?.kind !== "(") throw new FilterError("not must be followed by (");
      return { op: "not", filter: parseUnary() };
    }
    if (t?.kind === "(") {
      at++;
      const inner = parseOr();
      if (peek()?.kind !== ")") throw new FilterError("a parenthesis is not closed");
      at++;
      return inner;
    }
    if (t?.kind !== "word") throw new FilterError("expected an attribute name");
    at++;
    const path = t.text;
    if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/.test(path))
      throw new FilterError(`unsupported attribute path ${JSON.stringify(path)}`);
    const op = word(peek());
    if (op === "pr") {
      at++;
      return { op: "pr", path };
    }
    if (!op || !COMPARE.has(op)) throw new FilterError(`unsupported operator after ${path}`);
    at++;
    const v = peek();
    at++;
    if (v?.kind === "string") return { op: op as "eq", path, value: v.text };
    const literal = word(v);
    if (literal === "true" || literal === "false") return { op: op as "eq", path, value: literal === "true" };
    if (literal === "null") return { op: op as "eq", path, value: null };
    if (v?.kind === "word" && /^-?\d+(\.\d+)?$/.test(v.text))
      return { op: op as "eq", path, value: Number(v.text) };
    throw new FilterError(`expected a value after ${path} ${op}`);
  }

  if (tokens.length === 0) throw new FilterError("the filter is empty");
  const filter = parseOr();
  if (at !== tokens.length) throw new FilterError(`unexpected ${JSON.stringify(tokens[at]?.text)}`);
  return filter;
}

/** The values at a path (`userName`, `emails.value`, `name.givenName`), through arrays, case-insensitively. */
function valuesAt(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  for (const part of path.toLowerCase().split(".")) {
    current = current.flatMap((v) => {
      if (v === null || typeof v !== "object") return [];
      const key = Object.keys(v).find((k) => k.toLowerCase() === part);
      const next = key === undefined ? undefined : (v as Record<string, unknown>)[key];
      return Array.isArray(next) ? next : next === undefined ? [] : [next];
    });
  }
  return current;
}

function compare(op: string, actual: unknown, expected: string | number | boolean | null): boolean {
  if (expected === null) return op === "eq" ? actual === null : op === "ne" ? actual !== null : false;
  if (typeof expected === "boolean") {
    const a = typeof actual === "boolean" ? actual : String(actual).toLowerCase() === "true";
    return op === "eq" ? a === expected : op === "ne" ? a !== expected : false;
  }
  const a = String(actual).toLowerCase();
  const e = String(expected).toLowerCase();
  switch (op) {
    case "eq":
      return a === e;
    case "ne":
      return a !== e;
    case "co":
      return a.includes(e);
    case "sw":
      return a.startsWith(e);
    case "ew":
      return a.endsWith(e);
    case "gt":
      return a > e;
    case "ge":
      return a >= e;
    case "lt":
      return a < e;
    case "le":
      return a <= e;
    default:
      return false;
  }
}

export function matchesFilter(resource: unknown, filter: Filter): boolean {
  switch (filter.op) {
    case "and":
      return matchesFilter(resource, filter.left) && matchesFilter(resource, filter.right);
    case "or":
      return matchesFilter(resource, filter.left) || matchesFilter(resource, filter.right);
    case "not":
      return !matchesFilter(resource, filter.filter);
    case "pr":
      return valuesAt(resource, filter.path).some((v) => v !== null && v !== "");
    default: {
      const values = valuesAt(resource, filter.path);
      if (filter.op === "ne") return values.every((v) => compare("ne", v, filter.value));
      return values.some((v) => compare(filter.op, v, filter.value));
    }
  }
}
