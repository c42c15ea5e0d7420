import "server-only";

// The policy domain's words as types: statement classes, classifications, rules and decisions.
// Holds no logic beyond the two severity orders every other policy file compares by.

/** Every class a statement can get, from the most harmless to the strictest. */
export const STATEMENT_CLASSES = [
  "read",
  "write",
  "unbounded-write",
  "ddl",
  "privilege",
  "dangerous",
  "unparseable",
] as const;

export type StatementClass = (typeof STATEMENT_CLASSES)[number];

/**
 * Order of strictness. Unparseable is the strictest: what the parser cannot read is never let through.
 */
export const CLASS_SEVERITY: Record<StatementClass, number> = {
  read: 0,
  write: 1,
  "unbounded-write": 2,
  ddl: 3,
  privilege: 4,
  dangerous: 5,
  unparseable: 6,
};

export interface ClassifiedStatement {
  /** 0-based position of the statement in the input. */
  index: number;
  /**
   * The statement's own slice of the input, exactly as the target will run it: only the whitespace PostgreSQL
   * itself skips (space, tab, newline, carriage return, form feed) is trimmed.
   */
  text: string;
  class: StatementClass;
  /** Parse node name of the statement, e.g. "DeleteStmt"; "ParseError" when the input did not parse. */
  kind: string;
  /** Relations the statement names, lower-case, schema-qualified where the SQL qualifies them. */
  tables: string[];
  /** Functions called anywhere in the statement, lower-case, schema-qualified where the SQL qualifies them. */
  functions: string[];
  /** Why the statement got its class, in words for a person. */
  reasons: string[];
  /** The most rows it can return, when the parse tree proves it (see ./row-bound.ts). */
  maxRows?: number;
  /** The cursor a DECLARE opens or a FETCH reads, as the target names it (unquoted names lower-cased). */
  portal?: string;
  /**
   * A SELECT that only calls pg_catalog.set_config() with constants: it changes the session as SET does, so it
   * runs as SET does (see pg-settings-call.ts).
   */
  setsSessionOnly?: boolean;
  /** A PREPARE: the name it prepares, as the target names it. */
  prepares?: string;
  /**
   * An EXECUTE of a statement this input did not prepare (it counts as a write): its name, and the class and
   * reasons of what the EXECUTE does apart from it (its parameters), for server/prepared-statements.ts.
   */
  executesElsewhere?: { name: string; class: StatementClass; reasons: string[] };
}

export interface ClassificationError {
  message: string;
  /** 0-based character offset into the input (UTF-16 code units, as JavaScript indexes strings). */
  position?: number;
}

export interface Classification {
  /** The strictest class among the statements. */
  class: StatementClass;
  statements: ClassifiedStatement[];
  error?: ClassificationError;
  /** The target's catalog was asked about functions, operators or views (nothing was run). */
  consultedCatalog?: boolean;
}

export type Decision = "allow" | "review" | "deny";

export const DECISION_SEVERITY: Record<Decision, number> = { allow: 0, review: 1, deny: 2 };

export interface PolicyRule {
  id: string;
  name: string;
  /** null applies the rule to every connection. */
  connectionId: string | null;
  /** Caller groups the rule applies to; empty applies it to everyone. */
  groups: string[];
  /** Empty matches any class. */
  classes: StatementClass[];
  /** Table patterns; empty matches any. "orders" matches any schema, "billing.*" a whole schema. */
  tables: string[];
  /** Function patterns; empty matches any. Same pattern rules as tables. */
  functions: string[];
  /**
   * Masked-column patterns (`employees.salary`, `salary`, `hr.*.*`): a rule that sets them decides only statements
   * that filter, join, group or order on a masked column they match (see evaluate-rules.ts). Absent: none.
   */
  columns?: string[];
  action: Decision;
  message: string;
  /** For review rules: the groups whose members approve (empty: the connection's approvers). */
  approverGroups?: string[];
  /** For review rules: approvals needed (absent: the connection's setting). */
  approvalsRequired?: number | null;
}

export interface RuleContext {
  connectionId: string;
  groups: string[];
  /**
   * By statement index: the masked source columns ("schema.table.column", with their masking type) the
   * statement filters, joins, groups or orders on, from its lineage. Such a statement can confirm a value it
   * never shows.
   */
  maskedPredicates?: ReadonlyMap<number, readonly { column: string; type: string }[]>;
}

export interface DecisionReason {
  statementIndex: number;
  statement: string;
  class: StatementClass;
  /** null when no rule decided (parse failure, or nothing matched). */
  ruleId: string | null;
  ruleName: string;
  action: Decision;
  message: string;
  /** Carried from a review rule that names its own approvers. */
  approverGroups?: string[];
  approvalsRequired?: number;
}

export interface PolicyDecision {
  decision: Decision;
  class: StatementClass;
  reasons: DecisionReason[];
}
