// Request bodies of the classification API, shared by the handlers, the page's client pieces (as types) and
// the OpenAPI document.
import "server-only";
import { z } from "zod";

export const classificationDecisionSchema = z.strictObject({
  action: z.enum(["confirm", "reject", "reopen"], {
    error: "action is confirm (mask the column), reject (never), or reopen (undecided again)",
  }),
  /** with confirm: the type the column is masked as; default the detected one */
  type: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9_]*$/, "type is lower_snake_case")
    .optional(),
});
export type ClassificationDecision = z.output<typeof classificationDecisionSchema>;

export const classificationSettingsSchema = z.strictObject({
  applyProposed: z.boolean({ error: "applyProposed is true or false" }),
});
export type ClassificationSettingsInput = z.output<typeof classificationSettingsSchema>;
