/** Request shapes of the approvals API: a decision's body and the history filters (query string). */
import { z } from "zod";

export const decisionSchema = z.strictObject({ comment: z.string().trim().max(1000).default("") });

const REVIEW_STATES = [
  "pending",
  "approved",
  "denied",
  "expired",
  "cancelled",
  "executed",
  "failed",
] as const;
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "dates are YYYY-MM-DD")
  .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), "not a calendar date");

/** Filters of the inbox history and `GET /api/v1/reviews?scope=history`; every field optional. */
export const reviewFiltersSchema = z.strictObject({
  state: z.enum(REVIEW_STATES, { message: `state is one of ${REVIEW_STATES.join(", ")}` }).optional(),
  connection: z.string().trim().max(120).optional(),
  requester: z.string().trim().max(200).optional(),
  text: z.string().trim().max(500).optional(),
  from: day.optional(),
  to: day.optional(),
  decidedByMe: z
    .enum(["1", "true"])
    .transform(() => true)
    .optional(),
});
export type ReviewFilters = z.output<typeof reviewFiltersSchema>;

/** Reads the filters from query parameters, dropping empty ones (a form submits empty fields). */
export function parseReviewFilters(params: URLSearchParams | Record<string, string | undefined>) {
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  const present = Object.fromEntries(entries.filter(([, v]) => typeof v === "string" && v.trim() !== ""));
  return reviewFiltersSchema.safeParse(present);
}
