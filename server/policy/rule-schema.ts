/** Request shapes of policy rules, SQL and command rules, shared by the API and the Policies page. */
import { z } from "zod";
import { STATEMENT_CLASSES } from "./types";

const pattern = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.*$-]+$/, "table and function patterns use names, dots and * (e.g. billing.*)");

/** Who approves what a review rule holds (SQL and command rules alike); empty/null: the connection's setting. */
export const approverFields = {
  approverGroups: z.array(z.string().trim().min(1).max(64)).max(20).default([]),
  approvalsRequired: z
    .number({ message: "approvalsRequired is a number from 1 to 5" })
    .int()
    .min(1, "approvalsRequired is at least 1")
    .max(5, "approvalsRequired is at most 5")
    .nullable()
    .default(null),
};

export const ruleInputSchema = z.strictObject({
  name: z.string().trim().min(1, "a rule needs a name").max(120),
  connection: z.string().trim().min(1).nullable().default(null),
  groups: z.array(z.string().trim().min(1).max(64)).default([]),
  classes: z.array(z.enum(STATEMENT_CLASSES)).default([]),
  tables: z.array(pattern).default([]),
  functions: z.array(pattern).default([]),
  /** masked columns (schema.table.column globs) this rule decides predicates on */
  columns: z.array(pattern).default([]),
  action: z.enum(["allow", "review", "deny"], { message: "action is allow, review or deny" }),
  message: z.string().trim().max(500).default(""),
  ...approverFields,
});
export type RuleInput = z.input<typeof ruleInputSchema>;

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
