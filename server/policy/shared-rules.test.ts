import { describe, expect, it } from "vitest";
import { type CommandRule, evaluateCommandLine } from "./evaluate-commands";
import { evaluateRules } from "./evaluate-rules";
import { matchesGlob } from "./glob";
import type { Classification, Decision, PolicyRule } from "./types";

// SQL rules and command rules are one policy: the same glob decides a table pattern and a command pattern, and
// the same evaluation order picks the winning rule. Each row runs through both evaluators; they must agree with
// each other and with the row. (Lower-case names without dots: a SQL pattern is folded to lower case and a dot
// in it qualifies a schema, which are the SQL side's reading of a name, not the matcher's.)

const scope = { connectionId: "prod", groups: ["ops"] };

function sqlRule(id: string, pattern: string, action: Decision, extra: Partial<PolicyRule> = {}): PolicyRule {
  return {
    id,
    name: id,
    connectionId: null,
    groups: [],
    classes: [],
    tables: [pattern],
    functions: [],
    action,
    message: id,
    ...extra,
  };
}

function commandRule(
  id: string,
  pattern: string,
  action: Decision,
  extra: Partial<CommandRule> = {},
): CommandRule {
  return {
    id,
    name: id,
    connectionId: null,
    groups: [],
    matchKind: "command",
    pattern,
    action,
    message: id,
    ...extra,
  };
}

/** A read of one table: allowed by the defaults unless a rule says otherwise. */
function readOf(table: string): Classification {
  const statement = {
    index: 0,
    text: `select * from ${table}`,
    class: "read" as const,
    kind: "SelectStmt",
    tables: [`public.${table}`],
    functions: [],
    reasons: [],
  };
  return { class: "read", statements: [statement] };
}

async function bothDecide(name: string, sql: PolicyRule[], commands: CommandRule[]) {
  const onSql = evaluateRules(readOf(name), sql, scope);
  const onCommand = await evaluateCommandLine(name, commands, scope);
  return {
    sql: onSql.decision,
    command: onCommand.decision,
    sqlRule: onSql.reasons[0]?.ruleId,
    commandRule: onCommand.reasons[0]?.ruleId,
  };
}

describe("one glob matcher for SQL and command rules", () => {
  // [pattern, name, matches]
  const table: [string, string, boolean][] = [
    ["orders", "orders", true],
    ["orders", "orders2", false],
    ["ord", "orders", false],
    ["rders", "orders", false],
    ["ord*", "orders", true],
    ["*ers", "orders", true],
    ["o*s", "orders", true],
    ["o*s", "ordersx", false],
    ["or*er*", "orders", true],
    ["*rd*", "orders", true],
    ["*", "anything", true],
    ["ord*", "ord", true],
    ["ord?rs", "orders", false],
    ["ord?rs", "ord?rs", true],
    ["ord+", "orddd", false],
    ["a$", "a", false],
    ["[o]rders", "orders", false],
    ["or-ders", "or-ders", true],
    ["x_*", "x_1", true],
    ["*_log", "audit_log", true],
    ["audit_*_log", "audit_log", false],
  ];

  it.each(table)("%s against %s: %s for both kinds", async (pattern, name, matches) => {
    expect(matchesGlob(pattern, name)).toBe(matches);
    const decided = await bothDecide(
      name,
      [sqlRule("sql", pattern, "deny")],
      [commandRule("cmd", pattern, "deny")],
    );
    const expected = matches ? "deny" : "allow";
    expect(decided.sql).toBe(expected);
    expect(decided.command).toBe(expected);
  });
});

describe("one evaluation order for SQL and command rules", () => {
  // [what, rules as (id, action, scope), winner]: every rule matches the name "deploy".
  type Scoped = { id: string; action: Decision; connectionId?: string; groups?: string[] };
  const table: [string, Scoped[], string | undefined][] = [
    [
      "a connection-scoped rule beats a global one",
      [
        { id: "global", action: "deny" },
        { id: "prod", action: "allow", connectionId: "prod" },
      ],
      "prod",
    ],
    [
      "a group-scoped rule beats a global one",
      [
        { id: "global", action: "deny" },
        { id: "ops", action: "review", groups: ["ops"] },
      ],
      "ops",
    ],
    [
      "a connection beats groups",
      [
        { id: "ops", action: "deny", groups: ["ops"] },
        { id: "prod", action: "allow", connectionId: "prod" },
      ],
      "prod",
    ],
    [
      "equal scope: the stricter action wins",
      [
        { id: "allow", action: "allow" },
        { id: "review", action: "review" },
        { id: "deny", action: "deny" },
      ],
      "deny",
    ],
    [
      "a rule for another connection does not apply",
      [{ id: "staging", action: "deny", connectionId: "staging" }],
      undefined,
    ],
    ["a rule for other groups does not apply", [{ id: "dba", action: "deny", groups: ["dba"] }], undefined],
  ];

  it.each(table)("%s", async (_what, rules, winner) => {
    const extra = (r: Scoped) => ({ connectionId: r.connectionId ?? null, groups: r.groups ?? [] });
    const decided = await bothDecide(
      "deploy",
      rules.map((r) => sqlRule(r.id, "deploy", r.action, extra(r))),
      rules.map((r) => commandRule(r.id, "deploy", r.action, extra(r))),
    );
    const action = rules.find((r) => r.id === winner)?.action ?? "allow";
    expect(decided).toEqual({
      sql: action,
      command: action,
      // No stored rule: the SQL defaults allow the read; no command default matches, so the line is allowed.
      sqlRule: winner ?? "default-read",
      commandRule: winner,
    });
  });

  it("ranks scope before pattern length, however long the pattern", async () => {
    // A 150-word pattern once outweighed a group (the score was 100 for groups plus one per word).
    const words = Array.from({ length: 150 }, (_, i) => `w${i}`);
    const line = `deploy ${words.join(" ")}`;
    const rules = [
      commandRule("long", `deploy ${words.join(" ")}`, "allow"),
      commandRule("ops", "deploy", "deny", { groups: ["ops"] }),
    ];
    const decided = await evaluateCommandLine(line, rules, scope);
    expect(decided.reasons.map((r) => [r.ruleId, r.action])).toEqual([["ops", "deny"]]);
  });

  it("carries a review rule's own approvers in both kinds", async () => {
    const approvers = { approverGroups: ["leads"], approvalsRequired: 2 };
    const sql = evaluateRules(readOf("deploy"), [sqlRule("r", "deploy", "review", approvers)], scope);
    const command = await evaluateCommandLine(
      "deploy",
      [commandRule("r", "deploy", "review", approvers)],
      scope,
    );
    expect(sql.reasons[0]).toMatchObject(approvers);
    expect(command.reasons[0]).toMatchObject(approvers);
  });
});
