/**
 * A free-text filter field as it arrives in a query string: trimmed, at most 200 characters, and empty meaning
 * "any" (undefined). Shared by the sessions, audit and access-review filters.
 */
import { z } from "zod";

export const filterText = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((v) => (v ? v : undefined));
