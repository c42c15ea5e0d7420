import "server-only";
import type { FuncCall, Node, SelectStmt } from "libpg-query";
import { booleanConstantOf, nameOf, stringOf } from "./tree";

// Recognizes the one shape in which set_config()'s setting name, though a column, is a constant:
//   SELECT set_config(name, '<value>', <bool>) FROM pg_settings WHERE name = '<setting>'
// (pg_dump sends it for restrict_nonsystem_relation_kind). The name is the WHERE's constant only if pg_settings
// is pg_catalog's system view (one row per setting, `name` unique) and `=` is pg_catalog's text equality: the
// statement's walk is told to check both against the target's catalog (resolve-capabilities.ts), and fails closed
// when it cannot. Anything else in the statement (another table, a join, a CTE, a second target, an OR, a cast)
// leaves set_config() with a computed name, refused as today. Also recognizes a SELECT that does nothing but call
// pg_catalog.set_config() with constants (pg_dump's search_path, sent again inside its transaction): it changes
// the session as SET does, and is run as SET is. It classifies nothing itself (handlers.ts does).

export interface SettingNamedByWhere {
  /** The set_config() call node whose first argument is pg_settings.name. */
  call: FuncCall;
  /** The setting the WHERE names, as written. */
  setting: string;
  /** pg_settings was written without a schema, so a relation of that name elsewhere could stand in for it. */
  isUnqualified: boolean;
}

const SETTINGS_VIEW = "pg_settings";

export function settingNamedByPgSettings(select: SelectStmt): SettingNamedByWhere | undefined {
  if (!isPlainSingleSelect(select)) return undefined;
  const [from, ...moreFrom] = select.fromClause ?? [];
  if (!from || moreFrom.length > 0 || !("RangeVar" in from)) return undefined;
  const relation = from.RangeVar;
  if (relation.relname !== SETTINGS_VIEW || relation.catalogname) return undefined;
  if (relation.schemaname !== undefined && relation.schemaname !== "pg_catalog") return undefined;
  const qualifiers = new Set([relation.alias?.aliasname ?? SETTINGS_VIEW]);
  if (!relation.alias && relation.schemaname) qualifiers.add(`pg_catalog.${SETTINGS_VIEW}`);

  const [target, ...moreTargets] = select.targetList ?? [];
  if (!target || moreTargets.length > 0 || !("ResTarget" in target)) return undefined;
  const value = target.ResTarget.val;
  if (!value || !("FuncCall" in value)) return undefined;
  const call = value.FuncCall;
  const callName = nameOf(call.funcname);
  if (callName !== "set_config" && callName !== "pg_catalog.set_config") return undefined;
  if (!isPlainCall(call)) return undefined;
  const args = call.args ?? [];
  if (args.length !== 3 || !isNameColumn(args[0], qualifiers) || booleanConstantOf(args[2]) === undefined)
    return undefined;
  if (!args[1] || !("A_Const" in args[1]) || !args[1].A_Const.sval) return undefined;

  const where = select.whereClause;
  if (!where || !("A_Expr" in where)) return undefined;
  const equality = where.A_Expr;
  const operator = nameOf(equality.name);
  if (equality.kind !== "AEXPR_OP" || (operator !== "=" && operator !== "pg_catalog.=")) return undefined;
  if (!isNameColumn(equality.lexpr, qualifiers)) return undefined;
  const setting =
    equality.rexpr && "A_Const" in equality.rexpr ? equality.rexpr.A_Const.sval?.sval : undefined;
  if (setting === undefined) return undefined;
  return { call, setting, isUnqualified: relation.schemaname === undefined };
}

/** One SELECT over one FROM item: no set operation, CTE, grouping, window, DISTINCT, INTO, locking or limit. */
function isPlainSingleSelect(select: SelectStmt): boolean {
  return (
    (select.op === undefined || select.op === "SETOP_NONE") &&
    !select.larg &&
    !select.rarg &&
    !select.withClause &&
    !select.intoClause &&
    !select.valuesLists &&
    !select.distinctClause &&
    !select.groupClause &&
    !select.havingClause &&
    !select.windowClause &&
    !select.sortClause &&
    !select.limitCount &&
    !select.limitOffset &&
    !select.lockingClause
  );
}

/** `name`, `pg_settings.name` or `<alias>.name`. */
function isNameColumn(node: Node | undefined, qualifiers: ReadonlySet<string>): boolean {
  if (!node || !("ColumnRef" in node)) return false;
  const fields = (node.ColumnRef.fields ?? []).map((field) => stringOf(field));
  if (fields.some((field) => field === undefined)) return false;
  const column = fields[fields.length - 1];
  const qualifier = fields.slice(0, -1).join(".");
  return column === "name" && (fields.length === 1 || qualifiers.has(qualifier));
}

/** A call written plainly: no ORDER BY, FILTER, OVER, `*`, DISTINCT or VARIADIC that would make it another call. */
function isPlainCall(call: FuncCall): boolean {
  return !(
    call.agg_order ||
    call.agg_filter ||
    call.over ||
    call.agg_star ||
    call.agg_distinct ||
    call.func_variadic
  );
}

/**
 * `SELECT pg_catalog.set_config('<name>', '<value>', <bool>) [, ...]` and nothing else: no FROM, no WHERE, the
 * function named with its schema (no namesake can stand in), every argument a constant. It calls nothing else, so
 * it runs as a SET does (not inside a read's scope, which would undo it on a client's transaction).
 */
export function isSetConfigOnly(select: SelectStmt): boolean {
  if (!isPlainSingleSelect(select) || select.fromClause || select.whereClause) return false;
  const targets = select.targetList ?? [];
  return (
    targets.length > 0 &&
    targets.every((target) => {
      const value = "ResTarget" in target ? target.ResTarget.val : undefined;
      if (!value || !("FuncCall" in value)) return false;
      const call = value.FuncCall;
      if (nameOf(call.funcname) !== "pg_catalog.set_config") return false;
      if (!isPlainCall(call)) return false;
      const args = call.args ?? [];
      return (
        args.length === 3 &&
        args.slice(0, 2).every((arg) => "A_Const" in arg && arg.A_Const.sval !== undefined) &&
        args[2] !== undefined &&
        "A_Const" in args[2] &&
        args[2].A_Const.boolval !== undefined
      );
    })
  );
}
