/**
 * The most rows a statement can return, when its parse tree alone proves it: `LIMIT n` (or FETCH FIRST n
 * ROWS ONLY) with a constant n, a VALUES list, a SELECT of constants with no FROM, a SHOW of one setting.
 * Undefined when nothing proves a bound (the driver then reads through a cursor, batch by batch). The
 * driver runs a bounded statement in one round trip instead of a cursor's two (docs/decisions/0004).
 * Not responsible for classes or rules: a bound says nothing about what a statement does.
 */

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Parse nodes a constant target list may hold: anything else (a function call, which may return a set; an
 * operator, which a set-returning function may implement; a sub-select) leaves the row count unproven.
 */
const CONSTANT_NODES = new Set(["ResTarget", "A_Const", "TypeCast", "TypeName", "String", "List"]);

/** Whether every parse node under `value` (keys that name node types start with an upper-case letter) is one of CONSTANT_NODES. */
function onlyConstants(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(onlyConstants);
  if (!isNode(value)) return true;
  for (const [key, child] of Object.entries(value)) {
    const first = key.charCodeAt(0);
    if (first >= 65 && first <= 90 && !CONSTANT_NODES.has(key)) return false;
    if (!onlyConstants(child)) return false;
  }
  return true;
}

/** A constant LIMIT's value (0 for `LIMIT 0`, whose constant the parser leaves empty); undefined otherwise. */
function constantLimit(select: Node): number | undefined {
  if (select.limitOption !== "LIMIT_OPTION_COUNT") return undefined; // none, or WITH TIES
  const limit = select.limitCount;
  if (!isNode(limit) || !isNode(limit.A_Const)) return undefined;
  const constant = limit.A_Const;
  if (constant.isnull === true || !isNode(constant.ival)) return undefined; // LIMIT ALL, or not an integer
  const value = constant.ival.ival;
  return Math.max(0, typeof value === "number" ? value : 0);
}

/** Keys a SELECT of constants without FROM may have: grouping, filtering or windows could change its count. */
const PLAIN_SELECT_KEYS = new Set(["targetList", "limitOption", "op", "limitCount", "limitOffset"]);

/** The bound proven for one statement's parse node (`{ SelectStmt: ... }` etc.), or undefined. */
export function rowBound(stmt: unknown): number | undefined {
  if (!isNode(stmt)) return undefined;
  const show = stmt.VariableShowStmt;
  if (isNode(show)) return show.name === "all" ? undefined : 1;
  const select = stmt.SelectStmt;
  if (!isNode(select)) return undefined;
  const limit = constantLimit(select);
  if (limit !== undefined) return limit;
  if (select.op !== "SETOP_NONE" || select.fromClause !== undefined) return undefined;
  if (Array.isArray(select.valuesLists)) return select.valuesLists.length;
  if (Object.keys(select).every((key) => PLAIN_SELECT_KEYS.has(key)) && onlyConstants(select.targetList))
    return 1;
  return undefined;
}
