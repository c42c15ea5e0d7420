import "server-only";
import type { A_Const, Node, RangeVar } from "libpg-query";
import { trimSqlWhitespace } from "./parser";

// Small readers of libpg-query parse trees: names, literals, booleans, options. No classification here.

export type KeysOfUnion<T> = T extends unknown ? keyof T : never;
export type NodeTag = KeysOfUnion<Node>;
export type BodyOf<K extends NodeTag> = Extract<Node, Record<K, unknown>>[K];

export function stringOf(node: Node | undefined): string | undefined {
  return node && "String" in node ? (node.String.sval ?? "") : undefined;
}

/** A string literal, also behind a cast ('role'::text). */
export function literalStringOf(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if ("A_Const" in node) return node.A_Const.sval ? (node.A_Const.sval.sval ?? "") : undefined;
  if ("TypeCast" in node) return literalStringOf(node.TypeCast.arg);
  return undefined;
}

/** A literal setting value as the server would spell it: 'UTF8', on, 1, true. */
export function settingValueOf(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if ("A_Const" in node) {
    const constant = node.A_Const;
    if (constant.sval) return (constant.sval.sval ?? "").trim().toLowerCase();
    if (constant.ival) return String(constant.ival.ival ?? 0);
    if (constant.boolval) return constant.boolval.boolval === true ? "true" : "false";
    return undefined;
  }
  if ("TypeCast" in node) return settingValueOf(node.TypeCast.arg);
  return stringOf(node)?.toLowerCase();
}

export function nameOf(parts: Node[] | undefined): string {
  return (parts ?? []).map((part) => (stringOf(part) ?? "").toLowerCase()).join(".");
}

export function relationName(relation: RangeVar): string {
  return [relation.catalogname, relation.schemaname, relation.relname]
    .filter((part): part is string => part !== undefined && part !== "")
    .join(".")
    .toLowerCase();
}

function isBooleanConst(constant: A_Const): constant is A_Const & { boolval: object } {
  return constant.boolval !== undefined;
}

export const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);
export const FALSE_WORDS = new Set(["f", "false", "n", "no", "off", "0"]);

export function booleanConstantOf(node: Node | undefined): boolean | undefined {
  if (!node) return undefined;
  if ("A_Const" in node)
    return isBooleanConst(node.A_Const) ? node.A_Const.boolval.boolval === true : undefined;
  if ("TypeCast" in node) {
    const typeName = nameOf(node.TypeCast.typeName?.names);
    if (!typeName.endsWith("bool") && !typeName.endsWith("boolean"))
      return booleanConstantOf(node.TypeCast.arg);
    const text = literalStringOf(node.TypeCast.arg)?.trim().toLowerCase();
    if (text === undefined) return booleanConstantOf(node.TypeCast.arg);
    if (TRUE_WORDS.has(text)) return true;
    if (FALSE_WORDS.has(text)) return false;
  }
  return undefined;
}

function withoutLocations(node: Node | undefined): string {
  return JSON.stringify(node, (key, value: unknown) => (key === "location" ? undefined : value));
}

/** A WHERE that holds for every row: `true`, `1 = 1`, `id = id`, `x OR true`, `NOT false`. */
export function isAlwaysTrue(node: Node | undefined): boolean {
  if (!node) return false;
  const constant = booleanConstantOf(node);
  if (constant !== undefined) return constant;
  if ("BoolExpr" in node) {
    const args = node.BoolExpr.args ?? [];
    if (node.BoolExpr.boolop === "OR_EXPR") return args.some(isAlwaysTrue);
    if (node.BoolExpr.boolop === "AND_EXPR") return args.length > 0 && args.every(isAlwaysTrue);
    if (node.BoolExpr.boolop === "NOT_EXPR") return booleanConstantOf(args[0]) === false;
    return false;
  }
  if ("A_Expr" in node) {
    const expr = node.A_Expr;
    return (
      expr.kind === "AEXPR_OP" &&
      nameOf(expr.name) === "=" &&
      expr.lexpr !== undefined &&
      withoutLocations(expr.lexpr) === withoutLocations(expr.rexpr)
    );
  }
  return false;
}

export function isOptionOn(option: Node | undefined): boolean {
  if (!option || !("DefElem" in option)) return false;
  const arg = option.DefElem.arg;
  if (!arg) return true;
  if ("Boolean" in arg) return arg.Boolean.boolval === true;
  if ("Integer" in arg) return (arg.Integer.ival ?? 0) !== 0;
  const text = stringOf(arg)?.toLowerCase();
  // Anything the server would not read as false counts as on: the stricter reading.
  return text === undefined || !FALSE_WORDS.has(text);
}

/**
 * Every option of that name. PostgreSQL lets a later EXPLAIN option override an earlier one
 * (`EXPLAIN (ANALYZE false, ANALYZE true)` runs), so callers look at all of them, never just the first.
 */
export function optionsNamed(options: Node[] | undefined, name: string): Node[] {
  return (options ?? []).filter(
    (option) => "DefElem" in option && option.DefElem.defname?.toLowerCase() === name,
  );
}

export function optionArgs(options: Node[] | undefined, name: string): Node[] {
  return optionsNamed(options, name).flatMap((option) =>
    "DefElem" in option && option.DefElem.arg ? [option.DefElem.arg] : [],
  );
}

export function isSecurityDefiner(options: Node[] | undefined): boolean {
  return optionArgs(options, "security").some((arg) => "Boolean" in arg && arg.Boolean.boolval === true);
}

/**
 * A name as PostgreSQL reads a regclass or schema given as text: dot-separated identifiers, unquoted ones
 * folded to lower case, "quoted" ones kept ("" is a quote). Lower-cased like every table name here.
 */
export function parseQualifiedName(text: string): string | undefined {
  const parts: string[] = [];
  let i = 0;
  const input = trimSqlWhitespace(text);
  while (i <= input.length) {
    let part = "";
    if (input[i] === '"') {
      i++;
      for (;;) {
        if (i >= input.length) return undefined;
        if (input[i] === '"') {
          if (input[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += input[i];
        i++;
      }
    } else {
      const match = /^[^."]+/.exec(input.slice(i));
      if (!match) return undefined;
      part = trimSqlWhitespace(match[0]);
      i += match[0].length;
    }
    if (part === "") return undefined;
    parts.push(part.toLowerCase());
    if (i >= input.length) break;
    if (input[i] !== ".") return undefined;
    i++;
  }
  return parts.length > 0 && parts.length <= 3 ? parts.join(".") : undefined;
}
