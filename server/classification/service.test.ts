import { describe, expect, it } from "vitest";
import { defaultMaskingConfig, maskValue } from "@/server/masking";
import { columnRulePattern } from "./service";

describe("the column rule a classification acts as", () => {
  it.each([
    ["public", "customers", "card", "public.customers.card"],
    ["sales", "order lines", "card no", "sales.order lines.card no"],
    ["public", "events", "payload.card", "public.events.payload*card"],
    ["my.schema", "t", "c", "my*schema.t.c"],
  ])("%s.%s.%s is the pattern %s", (schema, table, column, pattern) => {
    expect(columnRulePattern(schema, table, column)).toBe(pattern);
  });

  it.each([
    ["public", "customers", "card"],
    ["public", "events", "payload.card"],
    ["my.schema", "t", "c"],
  ])("matches its own column %s.%s.%s exactly, and not the same name elsewhere", (schema, table, column) => {
    const config = {
      ...defaultMaskingConfig("k".repeat(32)),
      columnRules: [{ pattern: columnRulePattern(schema, table, column), type: "ruled" }],
    };
    const typesOf = (ref: { schema: string; table: string }) =>
      maskValue("plain words", config, { ...ref, name: column, connection: "shop" }).types;
    expect(typesOf({ schema, table })).toEqual(["ruled"]);
    expect(typesOf({ schema: "other", table })).toEqual([]);
    expect(typesOf({ schema, table: "other" })).toEqual([]);
  });
});
