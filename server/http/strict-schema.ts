/**
 * Request schemas are strict: an unknown field is refused (400 `unknown field "x"`), never dropped, so a typo
 * cannot quietly weaken a setting (`approverGroup` for `approverGroups`). `assertStrictSchema` walks a zod
 * schema and throws when any object in it would strip or pass unknown keys; withAuth and withoutAuth call it
 * when a route module is loaded, so a route whose body schema is not strict fails its first import (and the
 * route walk test). Not responsible for parsing, nor for query strings (the routes that read them say which
 * parameters they take).
 */
import "server-only";
import type { z } from "zod";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Paths (a.b[]) of the objects in `schema` that do not refuse unknown keys; empty when it is strict. */
export function looseObjectPaths(schema: z.ZodType): string[] {
  const loose: string[] = [];
  const seen = new Set<z.ZodType>();
  const walk = (node: z.ZodType | null | undefined, where: string) => {
    if (!node || seen.has(node)) return;
    seen.add(node);
    const def = defOf(node);
    switch (def.type) {
      case "object":
        if (!def.catchall || defOf(def.catchall).type !== "never") loose.push(where || "(body)");
        for (const [key, value] of Object.entries(def.shape ?? {}))
          walk(value, where ? `${where}.${key}` : key);
        return;
      case "array":
        return walk(def.element, `${where}[]`);
      case "record":
        return walk(def.valueType, `${where}.*`);
      case "union":
        for (const option of def.options ?? []) walk(option, where);
        return;
      case "intersection":
        walk(def.left, where);
        return walk(def.right, where);
      case "pipe":
        // Only the input side meets the request; a transform's output is the handler's own value.
        return walk(def.in, where);
      case "tuple":
        for (const item of def.items ?? []) walk(item, `${where}[]`);
        return walk(def.rest, `${where}[]`);
      case "lazy":
        return walk(def.getter?.(), where);
      default:
        // optional, nullable, default, prefault, catch, readonly, nonoptional wrap one inner schema
        if (def.innerType) walk(def.innerType, where);
    }
  };
  walk(schema, "");
  return loose;
}

/** Throws when a request schema would accept unknown fields (called where a route declares its body). */
export function assertStrictSchema(schema: z.ZodType): void {
  const loose = looseObjectPaths(schema);
  if (loose.length > 0) {
    throw new Error(
      `request schemas must be strict (z.strictObject): unknown fields would be dropped at ${loose.join(", ")}`,
    );
  }
}
