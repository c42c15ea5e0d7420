/** Request body of an approval decision. */
import { z } from "zod";

export const decisionSchema = z.object({ comment: z.string().trim().max(1000).default("") });
