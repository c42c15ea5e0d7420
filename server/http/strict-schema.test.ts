import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { assertStrictSchema, looseObjectPaths } from "./strict-schema";

const strictInner = z.strictObject({ group: z.string() });

describe("looseObjectPaths", () => {
  it.each<[string, z.ZodType, string[]]>([
    ["a strict object", z.strictObject({ a: z.string() }), []],
    ["a plain object", z.object({ a: z.string() }), ["(body)"]],
    ["a loose object", z.looseObject({ a: z.string() }), ["(body)"]],
    [
      "a plain object nested in a strict one",
      z.strictObject({ approvals: z.object({}).optional() }),
      ["approvals"],
    ],
    ["objects in arrays", z.strictObject({ rules: z.array(z.object({ p: z.string() })) }), ["rules[]"]],
    ["objects in records", z.strictObject({ styles: z.record(z.string(), z.object({})) }), ["styles.*"]],
    [
      "every option of a union",
      z.discriminatedUnion("kind", [
        z.strictObject({ kind: z.literal("a") }),
        z.object({ kind: z.literal("b") }),
      ]),
      ["(body)"],
    ],
    [
      "behind a default and a refinement",
      z
        .object({})
        .default({})
        .refine(() => true),
      ["(body)"],
    ],
    ["the input side of a transform", z.object({ a: z.string() }).transform((v) => v.a), ["(body)"]],
    [
      "strict all the way down",
      z.strictObject({ a: z.array(strictInner).default([]), b: strictInner.nullable() }),
      [],
    ],
    ["no object at all", z.string(), []],
  ])("%s", (_name, schema, expected) => {
    expect(looseObjectPaths(schema)).toEqual(expected);
  });

  it("names the loose object when it refuses a schema", () => {
    expect(() => assertStrictSchema(z.strictObject({ approvals: z.object({}) }))).toThrow(/at approvals/);
  });
});

describe("API route bodies", () => {
  const apiDir = path.resolve(import.meta.dirname, "../../app/api");
  const files = (function list(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? list(full) : e.name === "route.ts" ? [full] : [];
    });
  })(apiDir).filter((f) => !f.includes("[...nextauth]"));

  // withAuth / withoutAuth assert strictness when a route module is loaded: a loose body schema fails here.
  it.each(files.map((f) => [path.relative(apiDir, f), f]))(
    "%s loads with strict body schemas",
    async (_n, file) => {
      await expect(import(file)).resolves.toBeDefined();
    },
  );
});
