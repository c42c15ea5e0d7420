/** Request bodies of the SQL endpoints. */
import { z } from "zod";

export const execSchema = z.strictObject({
  input: z.string({ error: "input is required: the SQL to run" }),
  sessionId: z.uuid({ message: "sessionId must be a session id returned earlier" }).optional(),
  runId: z.uuid({ message: "runId must be a UUID" }).optional(),
  rowLimit: z.number().int().positive().optional(),
  note: z.string().max(1000).optional(),
});

export const checkSchema = z.strictObject({
  input: z.string({ error: "input is required: the SQL to check" }),
});
