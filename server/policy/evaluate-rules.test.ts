import { describe, expect, it } from "vitest";
import { classifySql } from "./classify-statement";
import { defaultRules, evaluateRules } from "./evaluate-rules";
import type { Classification, ClassifiedStatement, Decision, PolicyRule, StatementClass } from "./types";

const ctx = { connectionId: "prod", groups: ["analyst"] };

function rule(id: string, action: Decision, match: Partial<PolicyRule> = {}): PolicyRule {
  return {
    id,
    name: id,
    connectionId: null,
    groups: [],
    classes: [],
    tables: [],
    functions: [],
    action,
    message: `${id} says ${action}`,
    ...match,
  };
}

function statement(
  statementClass: StatementClass,
  extra: Partial<ClassifiedStatement> = {},
): ClassifiedStatement {
  return {
    index: 0,
    text: `a ${statementClass} statement`,
    class: statementClass,
    kind: "SelectStmt",
    tables: [],
    functions: [],
    reasons: [],
    ...extra,
  };
}

function classification(...statements: ClassifiedStatement[]): Classification {
  const ordered = statements.map((s, index) => ({ ...s, index }));
  const severity = ["read", "write", "unbounded-write", "ddl", "privilege", "dangerous", "unparseable"];
  const strictest = ordered.reduce<StatementClass>(
    (acc, s) => (severity.indexOf(s.class) > severity.indexOf(acc) ? s.class : acc),
    "read",
  );
  return { class: strictest, statements: ordered };
}

describe("default rules", () => {
  it.each<[string, StatementClass, Decision, string]>([
    ["allows a read", "read", "allow", "default-read"],
    ["holds a write for review", "write", "review", "default-write"],
    ["holds an unbounded write for review", "unbounded-write", "review", "default-unbounded-write"],
    ["holds DDL for review", "ddl", "review", "default-ddl"],
    ["denies a privilege change", "privilege", "deny", "default-privilege"],
    ["denies a dangerous statement", "dangerous", "deny", "default-dangerous"],
  ])("%s", (_behaviour, statementClass, decision, ruleId) => {
    const result = evaluateRules(classification(statement(statementClass)), defaultRules(), ctx);
    expect(result.decision).toBe(decision);
    expect(result.reasons[0]?.ruleId).toBe(ruleId);
  });

  it("decides with the defaults when no rule is given", () => {
    expect(evaluateRules(classification(statement("write")), [], ctx).decision).toBe("review");
  });

  it("falls back to the defaults when no rule matches", () => {
    const rules = [rule("other-connection", "allow", { connectionId: "dev" })];
    const result = evaluateRules(classification(statement("ddl")), rules, ctx);
    expect(result.decision).toBe("review");
    expect(result.reasons[0]?.ruleId).toBe("default-ddl");
  });

  it("covers every class with one rule apiece", () => {
    const classes = defaultRules().flatMap((r) => r.classes);
    expect(new Set(classes).size).toBe(7);
    expect(defaultRules().every((r) => r.connectionId === null && r.groups.length === 0)).toBe(true);
  });
});

describe("rule matching", () => {
  it.each<[string, PolicyRule[], ClassifiedStatement, Decision, string | null]>([
    [
      "lets a connection rule beat the default",
      [rule("prod-writes", "allow", { connectionId: "prod", classes: ["write"] })],
      statement("write"),
      "allow",
      "prod-writes",
    ],
    [
      "ignores a rule for another connection",
      [rule("dev-writes", "allow", { connectionId: "dev", classes: ["write"] })],
      statement("write"),
      "review",
      "default-write",
    ],
    [
      "prefers the rule with more dimensions set",
      [
        rule("analyst-reads", "deny", { groups: ["analyst"], classes: ["read"] }),
        rule("all-reads", "allow", { classes: ["read"] }),
      ],
      statement("read"),
      "deny",
      "analyst-reads",
    ],
    [
      "prefers a connection over groups at equal counts",
      [rule("prod", "deny", { connectionId: "prod" }), rule("analysts", "allow", { groups: ["analyst"] })],
      statement("read"),
      "deny",
      "prod",
    ],
    [
      "prefers groups over tables at equal counts",
      [rule("analysts", "allow", { groups: ["analyst"] }), rule("orders", "deny", { tables: ["orders"] })],
      statement("read", { tables: ["public.orders"] }),
      "allow",
      "analysts",
    ],
    [
      "prefers tables over classes at equal counts",
      [rule("orders", "allow", { tables: ["orders"] }), rule("reads", "review", { classes: ["read"] })],
      statement("read", { tables: ["orders"] }),
      "allow",
      "orders",
    ],
    [
      "prefers groups and tables over a connection alone",
      [
        rule("prod", "allow", { connectionId: "prod" }),
        rule("analyst-billing", "deny", { groups: ["analyst"], tables: ["billing.*"] }),
      ],
      statement("read", { tables: ["billing.invoices"] }),
      "deny",
      "analyst-billing",
    ],
    [
      "breaks a tie towards deny over allow",
      [rule("yes", "allow", { classes: ["write"] }), rule("no", "deny", { classes: ["write"] })],
      statement("write"),
      "deny",
      "no",
    ],
    [
      "breaks a tie towards review over allow",
      [rule("yes", "allow", { classes: ["ddl"] }), rule("maybe", "review", { classes: ["ddl"] })],
      statement("ddl"),
      "review",
      "maybe",
    ],
    [
      "breaks a tie towards deny over review, whatever the order",
      [rule("no", "deny", { groups: ["analyst"] }), rule("maybe", "review", { groups: ["analyst"] })],
      statement("read"),
      "deny",
      "no",
    ],
    [
      "matches a caller in one of the rule's groups",
      [rule("dba-ddl", "allow", { groups: ["dba", "analyst"], classes: ["ddl"] })],
      statement("ddl"),
      "allow",
      "dba-ddl",
    ],
    [
      "does not match a caller outside the rule's groups",
      [rule("dba-ddl", "allow", { groups: ["dba"], classes: ["ddl"] })],
      statement("ddl"),
      "review",
      "default-ddl",
    ],
    [
      "matches everyone when the rule has no groups",
      [rule("all-ddl", "allow", { classes: ["ddl"] })],
      statement("ddl"),
      "allow",
      "all-ddl",
    ],
    [
      "matches any class when the rule has no classes",
      [rule("prod-anything", "review", { connectionId: "prod" })],
      statement("read"),
      "review",
      "prod-anything",
    ],
    [
      "matches an unqualified table pattern in any schema",
      [rule("orders", "deny", { tables: ["orders"] })],
      statement("read", { tables: ["sales.orders"] }),
      "deny",
      "orders",
    ],
    [
      "matches a schema wildcard",
      [rule("billing", "deny", { tables: ["billing.*"] })],
      statement("read", { tables: ["billing.invoices"] }),
      "deny",
      "billing",
    ],
    [
      "does not match a schema wildcard against another schema",
      [rule("billing", "deny", { tables: ["billing.*"] })],
      statement("read", { tables: ["public.orders"] }),
      "allow",
      "default-read",
    ],
    [
      "reads an unqualified table as public for a qualified pattern",
      [rule("public-orders", "deny", { tables: ["public.orders"] })],
      statement("read", { tables: ["orders"] }),
      "deny",
      "public-orders",
    ],
    [
      "does not put an unqualified table in another schema",
      [rule("billing", "deny", { tables: ["billing.*"] })],
      statement("read", { tables: ["invoices"] }),
      "allow",
      "default-read",
    ],
    [
      "matches a wildcard inside a name",
      [rule("audit", "deny", { tables: ["*_audit"] })],
      statement("read", { tables: ["app.login_audit"] }),
      "deny",
      "audit",
    ],
    [
      "matches table patterns in any case",
      [rule("billing", "deny", { tables: ["Billing.*"] })],
      statement("read", { tables: ["billing.invoices"] }),
      "deny",
      "billing",
    ],
    [
      "denies when any table of a statement matches a deny rule",
      [rule("billing", "deny", { tables: ["billing.*"] })],
      statement("read", { tables: ["public.orders", "billing.invoices"] }),
      "deny",
      "billing",
    ],
    [
      "allows only when every table of a statement matches an allow rule",
      [rule("public-writes", "allow", { tables: ["public.*"], classes: ["write"] })],
      statement("write", { tables: ["public.orders", "billing.invoices"] }),
      "review",
      "default-write",
    ],
    [
      "allows when every table matches an allow rule",
      [rule("public-writes", "allow", { tables: ["public.*"], classes: ["write"] })],
      statement("write", { tables: ["public.orders", "items"] }),
      "allow",
      "public-writes",
    ],
    [
      "does not match a table rule against a statement without tables",
      [rule("orders", "allow", { tables: ["orders"] })],
      statement("write"),
      "review",
      "default-write",
    ],
    [
      "allows a named dangerous function for a group",
      [
        rule("dba-terminate", "allow", {
          groups: ["analyst"],
          classes: ["dangerous"],
          functions: ["pg_terminate_backend"],
        }),
      ],
      statement("dangerous", { functions: ["pg_catalog.pg_terminate_backend", "lower"] }),
      "allow",
      "dba-terminate",
    ],
    [
      "does not allow a second dangerous function the rule does not name",
      [rule("terminate", "allow", { classes: ["dangerous"], functions: ["pg_terminate_backend"] })],
      statement("dangerous", { functions: ["pg_terminate_backend", "pg_read_file"] }),
      "deny",
      "default-dangerous",
    ],
    [
      "denies a statement calling a denied function",
      [rule("no-sleep", "deny", { functions: ["pg_sleep"] })],
      statement("read", { functions: ["pg_catalog.pg_sleep", "now"] }),
      "deny",
      "no-sleep",
    ],
    [
      "matches a qualified function pattern against an unqualified built-in call",
      [rule("no-sleep", "deny", { functions: ["pg_catalog.pg_sleep"] })],
      statement("read", { functions: ["pg_sleep"] }),
      "deny",
      "no-sleep",
    ],
  ])("%s", (_behaviour, rules, subject, decision, ruleId) => {
    const result = evaluateRules(classification(subject), rules, ctx);
    expect(result.decision).toBe(decision);
    expect(result.reasons[0]?.ruleId).toBe(ruleId);
  });

  it("reports the winning rule's name and message", () => {
    const rules = [rule("billing", "deny", { tables: ["billing.*"], message: "billing is off limits" })];
    const [reason] = evaluateRules(
      classification(statement("read", { tables: ["billing.invoices"] })),
      rules,
      ctx,
    ).reasons;
    expect(reason).toMatchObject({
      ruleId: "billing",
      ruleName: "billing",
      action: "deny",
      message: "billing is off limits",
    });
  });

  it("carries a review rule's own approvers into its reason, and only a review rule's", () => {
    const approvers = { approverGroups: ["finance"], approvalsRequired: 2 };
    const held = evaluateRules(
      classification(statement("write", { tables: ["orders"] })),
      [rule("orders", "review", { tables: ["orders"], ...approvers })],
      ctx,
    );
    expect(held.reasons[0]).toMatchObject({ action: "review", ...approvers });
    const allowed = evaluateRules(
      classification(statement("read", { tables: ["orders"] })),
      [rule("orders", "allow", { tables: ["orders"], ...approvers })],
      ctx,
    );
    expect(allowed.reasons[0]).not.toHaveProperty("approverGroups");
    const plain = evaluateRules(classification(statement("write")), [rule("w", "review")], ctx);
    expect(plain.reasons[0]).not.toHaveProperty("approverGroups");
    expect(plain.reasons[0]).not.toHaveProperty("approvalsRequired");
  });
});

describe("multi-statement input", () => {
  it("takes the strictest decision and gives one reason per statement", () => {
    const result = evaluateRules(
      classification(statement("read"), statement("write"), statement("read")),
      defaultRules(),
      ctx,
    );
    expect(result.decision).toBe("review");
    expect(result.class).toBe("write");
    expect(result.reasons.map((r) => [r.statementIndex, r.action])).toEqual([
      [0, "allow"],
      [1, "review"],
      [2, "allow"],
    ]);
  });

  it("denies the whole input when one statement is denied", () => {
    const result = evaluateRules(
      classification(statement("read"), statement("privilege")),
      defaultRules(),
      ctx,
    );
    expect(result.decision).toBe("deny");
  });

  it("decides each statement by the rules that match it", () => {
    const rules = [rule("orders-writes", "allow", { tables: ["orders"], classes: ["write"] })];
    const result = evaluateRules(
      classification(
        statement("write", { tables: ["orders"] }),
        statement("write", { tables: ["customers"] }),
      ),
      rules,
      ctx,
    );
    expect(result.reasons.map((r) => r.ruleId)).toEqual(["orders-writes", "default-write"]);
    expect(result.decision).toBe("review");
  });
});

describe("unparseable input", () => {
  const allowEverything = [rule("anything-goes", "allow")];

  it("denies unparseable input even when a rule allows everything", async () => {
    const result = evaluateRules(await classifySql("SELEC 1"), allowEverything, ctx);
    expect(result.decision).toBe("deny");
    expect(result.class).toBe("unparseable");
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatchObject({
      ruleId: null,
      action: "deny",
      message: 'syntax error at or near "SELEC"',
    });
  });

  it("denies a classification with an error and no statements", () => {
    const result = evaluateRules(
      { class: "unparseable", statements: [], error: { message: "parser down" } },
      allowEverything,
      ctx,
    );
    expect(result.decision).toBe("deny");
    expect(result.reasons[0]?.message).toBe("parser down");
  });

  it("denies an unparseable statement among parsed ones", () => {
    const result = evaluateRules(
      classification(statement("read"), statement("unparseable", { reasons: ["bad SQL text"] })),
      allowEverything,
      ctx,
    );
    expect(result.decision).toBe("deny");
    expect(result.reasons.every((r) => r.action === "deny")).toBe(true);
    expect(result.reasons[0]?.message).toBe("bad SQL text");
  });

  it("denies empty input", async () => {
    const result = evaluateRules(await classifySql("   "), allowEverything, ctx);
    expect(result.decision).toBe("deny");
    expect(result.reasons[0]?.message).toBe("no statement");
  });
});

describe("with the classifier", () => {
  it.each<[string, string, Decision]>([
    ["allows a SELECT", "SELECT * FROM orders", "allow"],
    [
      "holds a DELETE inside a CTE for review",
      "WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM d",
      "review",
    ],
    ["holds a TRUNCATE for review", "TRUNCATE orders", "review"],
    ["denies a GRANT", "GRANT SELECT ON orders TO bob", "deny"],
    ["denies reading a server file", "SELECT pg_catalog.pg_read_file('/etc/passwd')", "deny"],
    ["denies a read followed by SET ROLE", "SELECT 1; SET ROLE admin", "deny"],
  ])("%s", async (_behaviour, sql, decision) => {
    expect(evaluateRules(await classifySql(sql), defaultRules(), ctx).decision).toBe(decision);
  });

  it("lets a rule allow writes to one schema's tables", async () => {
    const rules = [
      rule("app-writes", "allow", { connectionId: "prod", tables: ["app.*"], classes: ["write"] }),
    ];
    const allowed = evaluateRules(await classifySql("UPDATE app.items SET qty = 1 WHERE id = 2"), rules, ctx);
    const held = evaluateRules(
      await classifySql("UPDATE app.items SET qty = q.qty FROM billing.quotas q WHERE q.id = items.id"),
      rules,
      ctx,
    );
    expect(allowed.decision).toBe("allow");
    expect(held.decision).toBe("review");
  });
});

describe("conditions on masked columns", () => {
  const salary = { column: "hr.employees.salary", type: "salary" };
  const card = { column: "public.customers.card", type: "credit_card" };
  const on = (...predicates: { column: string; type: string }[]) => ({
    ...ctx,
    maskedPredicates: new Map([[0, predicates]]),
  });

  it.each<[string, PolicyRule[], { column: string; type: string }[], Decision, string]>([
    [
      "holds a read that filters on a masked column, naming it",
      [],
      [salary],
      "review",
      "hr.employees.salary",
    ],
    ["runs it when no masked column is in its conditions", [], [], "allow", "reads run"],
    [
      "runs it when a rule allows that column",
      [rule("pay", "allow", { columns: ["employees.salary"] })],
      [salary],
      "allow",
      "reads run",
    ],
    [
      "matches a bare column name in any table and a schema glob",
      [rule("pay", "allow", { columns: ["salary"] }), rule("hr", "allow", { columns: ["hr.*.*"] })],
      [salary],
      "allow",
      "reads run",
    ],
    [
      "allows only when every masked column it conditions on is allowed",
      [rule("pay", "allow", { columns: ["employees.salary"] })],
      [salary, card],
      "review",
      "public.customers.card",
    ],
    [
      "denies what a deny rule names",
      [rule("cards", "deny", { columns: ["customers.card"] })],
      [salary, card],
      "deny",
      "cards says deny",
    ],
    [
      "ignores a rule for other groups",
      [rule("pay", "allow", { columns: ["salary"], groups: ["finance"] })],
      [salary],
      "review",
      "hr.employees.salary",
    ],
    [
      "ignores a rule for another connection",
      [rule("pay", "allow", { columns: ["salary"], connectionId: "staging" })],
      [salary],
      "review",
      "hr.employees.salary",
    ],
  ])("%s", (_behaviour, rules, predicates, decision, message) => {
    const result = evaluateRules(classification(statement("read")), rules, on(...predicates));
    expect(result.decision).toBe(decision);
    expect(result.reasons[0]?.message).toContain(message);
  });

  it("never lets a column rule decide a statement's class", () => {
    const allowAll = rule("pay", "allow", { columns: ["salary"] });
    expect(evaluateRules(classification(statement("ddl")), [allowAll], on(salary)).decision).toBe("review");
    expect(evaluateRules(classification(statement("privilege")), [allowAll], ctx).decision).toBe("deny");
  });

  it("keeps a write's approvers and gives the reviewer both reasons", () => {
    const writes = rule("writes", "review", { classes: ["write"], approverGroups: ["dba"] });
    const result = evaluateRules(classification(statement("write")), [writes], on(salary));
    expect(result.reasons[0]).toMatchObject({ ruleId: "writes", approverGroups: ["dba"] });
    expect(result.reasons[0]?.message).toContain("hr.employees.salary");
  });
});
