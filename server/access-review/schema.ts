/** Request shapes for access reviews: matrix filters, campaigns, decisions and the auditor's questions (zod). */
import { z } from "zod";
import { filterText } from "@/server/http/filter-text";

const flag = z
  .union([z.boolean(), z.enum(["1", "true", "0", "false", ""])])
  .optional()
  .transform((v) => v === true || v === "1" || v === "true");

/** Matrix filters, as they arrive in a query string; empty fields mean "any". */
export const matrixFiltersSchema = z.strictObject({
  /** email or name contains */
  principal: filterText,
  /** group name, exactly */
  group: filterText,
  /** connection name, exactly */
  connection: filterText,
  /** only standing access unused for `unusedDays` */
  unused: flag,
  /** a masked type the principal's results touched on the connection (card-number, email, ...) */
  type: filterText,
  unusedDays: z.coerce.number().int().min(1).max(3650).optional().default(30),
  page: z.coerce.number().int().min(1).max(100_000).optional().default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).optional().default(100),
});
export type MatrixFilters = z.output<typeof matrixFiltersSchema>;

export const createCampaignSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    /** connection names the campaign covers (empty: all) */
    connections: z.array(z.string().trim().min(1).max(200)).max(1000).default([]),
    /** group names: only access through these groups (and grants on in-scope connections) (empty: all) */
    groups: z.array(z.string().trim().min(1).max(200)).max(1000).default([]),
    /** "group": the members of `reviewerGroup` review every item; "owners": each connection's owner group */
    reviewers: z.enum(["group", "owners"]),
    reviewerGroup: z.string().trim().min(1).max(200).optional(),
    /** ISO date or date-time; must be in the future */
    dueAt: z.string().trim().min(10).max(40),
    unusedDays: z.number().int().min(1).max(3650).default(30),
  })
  .refine((v) => v.reviewers !== "group" || Boolean(v.reviewerGroup), {
    message: "reviewerGroup is required when reviewers is group",
    path: ["reviewerGroup"],
  });
export type CreateCampaignInput = z.input<typeof createCampaignSchema>;

export const decideItemSchema = z.strictObject({
  decision: z.enum(["keep", "revoke"]),
  comment: z.string().trim().max(2000).default(""),
});
export type DecideItemInput = z.input<typeof decideItemSchema>;

export const bulkDecideSchema = z.strictObject({
  decision: z.enum(["keep", "revoke"]),
  comment: z.string().trim().max(2000).default(""),
  /** the items to decide; omitted: every undecided item of mine flagged unused */
  itemIds: z.array(z.string().min(1).max(100)).max(10_000).optional(),
});
export type BulkDecideInput = z.input<typeof bulkDecideSchema>;

export const setOwnerSchema = z.strictObject({
  /** group name; null clears it (admins review the connection) */
  group: z.string().trim().min(1).max(200).nullable(),
});

/** The auditor's canned questions, each with its parameters. */
export const questionSchema = z.discriminatedUnion("question", [
  z.strictObject({
    question: z.literal("touched"),
    /** a masked type (card-number) or a column name (card_number) */
    field: z.string().trim().min(1).max(200),
    connection: z.string().trim().min(1).max(200),
    since: z.string().trim().min(10).max(40),
  }),
  z.strictObject({
    question: z.literal("unapproved-writes"),
    connection: filterText,
    since: filterText,
  }),
  z.strictObject({
    question: z.literal("approvals-by"),
    user: z.string().trim().min(1).max(200),
    since: filterText,
  }),
]);
export type QuestionInput = z.input<typeof questionSchema>;
