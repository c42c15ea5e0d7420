// Zod schema of a connection's masking configuration, for the API and the connection store. Unknown
// detector types are rejected so a typo does not silently turn masking off for a type.
import "server-only";

import { z } from "zod";

import { DETECTOR_TYPES } from "./detectors";

const detectorType = z
  .string()
  .refine((t) => DETECTOR_TYPES.includes(t), { message: "unknown detector type" });
const maskStyle = z.enum(["full", "partial", "pseudonym"]);

export const columnRuleSchema = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .max(200)
    .regex(
      /^[^.]+(?:\.[^.]+){0,3}$/,
      "pattern is connection.schema.table.column, right-aligned, with * globs",
    ),
  type: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z][a-z0-9_]*$/, "type is lower_snake_case"),
});

export const maskingConfigSchema = z
  .strictObject({
    enabledTypes: z.array(detectorType).optional(),
    styles: z.record(z.string(), maskStyle).optional(),
    defaultStyle: maskStyle,
    pseudonymKey: z.string(),
    columnRules: z.array(columnRuleSchema),
  })
  .refine(
    (c) =>
      c.pseudonymKey.length >= 16 ||
      (c.defaultStyle !== "pseudonym" && !Object.values(c.styles ?? {}).includes("pseudonym")),
    {
      message: "pseudonymKey of at least 16 characters is required for pseudonym style",
      path: ["pseudonymKey"],
    },
  );
