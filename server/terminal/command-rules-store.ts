/**
 * Stored terminal command rules (table command_rules): what admins add to hold or refuse commands typed in
 * browser terminals. Read when a terminal evaluates a line, so a change applies to the next command. Each
 * change is an audit event. The built-in defaults are command-policy.ts's, not stored here.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { type CommandRuleRow, commandRules, connections } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { resolveGroupIds } from "@/server/auth";
import { connectionIdByName } from "@/server/connections";
import { notFound } from "@/server/errors";
import { approverFields } from "@/server/policy";
import type { CommandRule } from "./command-policy";

export const commandRuleInputSchema = z
  .strictObject({
    name: z.string().trim().min(1, "a rule needs a name").max(120),
    connection: z.string().trim().min(1).nullable().default(null),
    groups: z.array(z.string().trim().min(1).max(64)).default([]),
    matchKind: z.enum(["regex", "command"], { message: 'matchKind is "regex" or "command"' }),
    pattern: z.string().trim().min(1).max(500),
    action: z.enum(["allow", "review", "deny"], { message: "action is allow, review or deny" }),
    message: z.string().trim().max(500).default(""),
    ...approverFields,
  })
  .refine(
    (r) => {
      if (r.matchKind !== "regex") return true;
      try {
        new RegExp(r.pattern);
        return true;
      } catch {
        return false;
      }
    },
    { message: "pattern is not a valid regular expression", path: ["pattern"] },
  );
export type CommandRuleInput = z.input<typeof commandRuleInputSchema>;

export interface CommandRuleView extends CommandRule {
  connectionName: string | null;
  updatedAt: string;
}

function toRule(row: CommandRuleRow): CommandRule {
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

/** The rules a terminal evaluates. */
export async function loadCommandRules(): Promise<CommandRule[]> {
  const db = await getDb();
  return (await db.select().from(commandRules)).map(toRule);
}

export async function listCommandRules(): Promise<CommandRuleView[]> {
  const db = await getDb();
  const rows = await db
    .select({ rule: commandRules, connectionName: connections.name })
    .from(commandRules)
    .leftJoin(connections, eq(connections.id, commandRules.connectionId))
    .orderBy(asc(commandRules.createdAt));
  return rows.map((r) => ({
    ...toRule(r.rule),
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
