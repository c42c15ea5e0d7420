/**
 * Stored policy rules, both kinds: SQL rules (table policy_rules) and terminal command rules (table
 * command_rules), what admins add in the Policies page and the API. Read through one cache cleared on every
 * change (server/store-cache.ts), so a change applies to the next statement or command line without a restart.
 * Each change is an audit event. The built-in defaults are the evaluators' own (evaluate-rules.ts,
 * evaluate-commands.ts), not stored here; deciding is not this module's job.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { type CommandRuleRow, commandRules, connections, type PolicyRuleRow, policyRules } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { resolveGroupIds } from "@/server/auth";
import { connectionIdByName } from "@/server/connections";
import { notFound } from "@/server/errors";
import { storeCache } from "@/server/store-cache";
import type { CommandRule } from "./evaluate-commands";
import {
  type CommandRuleInput,
  commandRuleInputSchema,
  type RuleInput,
  ruleInputSchema,
} from "./rule-schema";
import type { PolicyRule, StatementClass } from "./types";

export interface RuleView extends PolicyRule {
  connectionName: string | null;
  updatedAt: string;
}

function toRule(row: PolicyRuleRow): PolicyRule {
  return {
    id: row.id,
    name: row.name,
    connectionId: row.connectionId,
    groups: row.groups,
    classes: row.classes as StatementClass[],
    tables: row.tables,
    functions: row.functions,
    columns: row.columns,
    action: row.action,
    message: row.message,
    approverGroups: row.approverGroups,
    approvalsRequired: row.approvalsRequired,
  };
}

/**
 * Stored rules of both kinds, cleared on every change (server/store-cache.ts): an edit applies to the next
 * statement or command line. Keys: "sql" and "command".
 */
const rulesCache = storeCache<readonly PolicyRule[] | readonly CommandRule[]>("policyRules", 2);

/** The SQL rules the pipeline evaluates (the built-in defaults are the evaluator's own fallback). */
export async function loadRules(): Promise<PolicyRule[]> {
  const rules = await rulesCache.get("sql", async () => {
    const db = await getDb();
    return (await db.select().from(policyRules)).map(toRule);
  });
  return structuredClone(rules) as PolicyRule[];
}

/** The command rules a terminal evaluates (the built-in defaults are the evaluator's own). */
export async function loadCommandRules(): Promise<CommandRule[]> {
  const rules = await rulesCache.get("command", async () => {
    const db = await getDb();
    return (await db.select().from(commandRules)).map(toCommandRule);
  });
  return structuredClone(rules) as CommandRule[];
}

export async function listRules(): Promise<RuleView[]> {
  const db = await getDb();
  const rows = await db
    .select({ rule: policyRules, connectionName: connections.name })
    .from(policyRules)
    .leftJoin(connections, eq(connections.id, policyRules.connectionId))
    .orderBy(asc(policyRules.createdAt));
  return rows.map((r) => ({
    ...toRule(r.rule),
    connectionName: r.connectionName,
    updatedAt: r.rule.updatedAt.toISOString(),
  }));
}

export async function createRule(actor: Actor, input: RuleInput): Promise<string> {
  const data = ruleInputSchema.parse(input);
  await resolveGroupIds(data.approverGroups);
  const id = randomUUID();
  const db = await getDb();
  const { connection, ...rest } = data;
  await db.insert(policyRules).values({ id, ...rest, connectionId: await connectionIdByName(connection) });
  await recordAuditEvent(actor, "policy.rule_create", data.name, { ...data });
  return id;
}

export async function updateRule(actor: Actor, id: string, input: RuleInput) {
  const data = ruleInputSchema.parse(input);
  await resolveGroupIds(data.approverGroups);
  const db = await getDb();
  const { connection, ...rest } = data;
  const updated = await db
    .update(policyRules)
    .set({ ...rest, connectionId: await connectionIdByName(connection), updatedAt: new Date() })
    .where(eq(policyRules.id, id))
    .returning({ id: policyRules.id });
  if (updated.length === 0) throw notFound("no such rule");
  await recordAuditEvent(actor, "policy.rule_update", data.name, { ...data });
}

export async function deleteRule(actor: Actor, id: string) {
  const db = await getDb();
  const deleted = await db
    .delete(policyRules)
    .where(eq(policyRules.id, id))
    .returning({ name: policyRules.name });
  if (deleted.length === 0) throw notFound("no such rule");
  await recordAuditEvent(actor, "policy.rule_delete", deleted[0]?.name ?? id);
}

export interface CommandRuleView extends CommandRule {
  connectionName: string | null;
  updatedAt: string;
}

function toCommandRule(row: CommandRuleRow): CommandRule {
  return {
    id: row.id,
    name: row.name,
    connectionId: row.connectionId,
    groups: row.groups,
    matchKind: row.matchKind,
    pattern: row.pattern,
    action: row.action,
    message: row.message,
    approverGroups: row.approverGroups,
    approvalsRequired: row.approvalsRequired,
  };
}

export async function listCommandRules(): Promise<CommandRuleView[]> {
  const db = await getDb();
  const rows = await db
    .select({ rule: commandRules, connectionName: connections.name })
    .from(commandRules)
    .leftJoin(connections, eq(connections.id, commandRules.connectionId))
    .orderBy(asc(commandRules.createdAt));
  return rows.map((r) => ({
    ...toCommandRule(r.rule),
    connectionName: r.connectionName,
    updatedAt: r.rule.updatedAt.toISOString(),
  }));
}

export async function createCommandRule(actor: Actor, input: CommandRuleInput): Promise<string> {
  const data = commandRuleInputSchema.parse(input);
  await resolveGroupIds(data.approverGroups);
  const id = randomUUID();
  const db = await getDb();
  const { connection, ...rest } = data;
  await db.insert(commandRules).values({ id, ...rest, connectionId: await connectionIdByName(connection) });
  await recordAuditEvent(actor, "command_rule.create", data.name, { ...data });
  return id;
}

export async function updateCommandRule(actor: Actor, id: string, input: CommandRuleInput) {
  const data = commandRuleInputSchema.parse(input);
  await resolveGroupIds(data.approverGroups);
  const db = await getDb();
  const { connection, ...rest } = data;
  const updated = await db
    .update(commandRules)
    .set({ ...rest, connectionId: await connectionIdByName(connection), updatedAt: new Date() })
    .where(eq(commandRules.id, id))
    .returning({ id: commandRules.id });
  if (updated.length === 0) throw notFound("no such command rule");
  await recordAuditEvent(actor, "command_rule.update", data.name, { ...data });
}

export async function deleteCommandRule(actor: Actor, id: string) {
  const db = await getDb();
  const deleted = await db
    .delete(commandRules)
    .where(eq(commandRules.id, id))
    .returning({ name: commandRules.name });
  if (deleted.length === 0) throw notFound("no such command rule");
  await recordAuditEvent(actor, "command_rule.delete", deleted[0]?.name ?? id);
}
