import { describe, expect, it } from "vitest";

import { defaultMaskingConfig } from "./config";
import { maskTargetError, quotesFailingRow } from "./target-error";
import type { MaskingConfig } from "./types";

const base = defaultMaskingConfig("k".repeat(32));
const cfg: MaskingConfig = {
  ...base,
  columnRules: [...base.columnRules, { pattern: "public.employees.salary", type: "salary" }],
};
const CARD = "4111 1111 1111 1111";
const ctx = { connection: "shop" };

describe("masking a target's error", () => {
  it.each([
    ["a card quoted by a failed cast", "22P02", `invalid input syntax for type integer: "${CARD}"`, CARD],
    [
      "a salary quoted by a failed cast",
      "22P02",
      'invalid input syntax for type integer: "187345x"',
      "187345",
    ],
    ["a value out of range", "22003", 'value "99999999999" is out of range for type integer', "99999999999"],
    ["an enum value", "22P02", 'invalid input value for enum mood: "secret-diagnosis"', "secret-diagnosis"],
    ["a quote inside the value", "22P02", 'invalid input syntax for type integer: "a"b"c"', 'a"b'],
  ])("hides %s", (_what, sqlState, message, secret) => {
    const out = maskTargetError({ message, sqlState }, cfg, ctx);
    expect(out.message).not.toContain(secret);
    expect(out.message).toContain('"[VALUE]"');
  });

  it("keeps the words of a data error around the masked value", () => {
    const out = maskTargetError(
      { message: `invalid input syntax for type integer: "${CARD}"`, sqlState: "22P02" },
      cfg,
      ctx,
    );
    expect(out.message).toBe('invalid input syntax for type integer: "[VALUE]"');
  });

  it("masks a detected value in any error's message, whatever its class", () => {
    const out = maskTargetError({ message: `custom failure for ${CARD}`, sqlState: "P0001" }, cfg, ctx);
    expect(out.message).not.toContain(CARD);
    expect(out.types).toContain("credit_card");
  });

  it.each([
    [
      "a unique key on a ruled column",
      "Key (salary)=(187345) already exists.",
      "Key (salary)=([SALARY]) already exists.",
    ],
    [
      "a foreign key on a ruled column",
      'Key (salary)=(187345) is not present in table "grades".',
      'Key (salary)=([SALARY]) is not present in table "grades".',
    ],
    [
      "a composite key, only the ruled column",
      "Key (id, salary)=(7, 187345) already exists.",
      "Key (id, salary)=(7, [SALARY]) already exists.",
    ],
    [
      "a key whose values cannot be told apart",
      "Key (id, salary)=(7, 18, 7345) already exists.",
      "Key (id, salary)=([VALUE], [VALUE], [VALUE]) already exists.",
    ],
    [
      "an expression key",
      "Key (lower(name))=(grace) already exists.",
      "Key (lower(name))=([VALUE]) already exists.",
    ],
    [
      "an exclusion conflict, both keys",
      "Key (salary)=(187345) conflicts with existing key (salary)=(187000).",
      "Key (salary)=([SALARY]) conflicts with existing key (salary)=([SALARY]).",
    ],
    [
      "a partition key",
      "Partition key of the failing row contains (salary) = (187345).",
      "Partition key of the failing row contains (salary) = ([SALARY]).",
    ],
    ["a key on an unruled column", "Key (id)=(7) already exists.", "Key (id)=(7) already exists."],
  ])("in a detail, masks %s", (_what, detail, expected) => {
    const out = maskTargetError(
      { message: "duplicate key", detail, sqlState: "23505", schema: "public", table: "employees" },
      cfg,
      ctx,
    );
    expect(out.detail).toBe(expected);
  });

  it("masks a foreign key's value by the rules of the table it references", () => {
    const out = maskTargetError(
      {
        message: 'insert or update on table "grades" violates foreign key constraint "grades_salary_fkey"',
        detail: 'Key (salary)=(187346) is not present in table "employees".',
        sqlState: "23503",
        schema: "public",
        table: "grades",
      },
      cfg,
      ctx,
    );
    expect(out.detail).toBe('Key (salary)=([SALARY]) is not present in table "employees".');
  });

  it.each([
    [
      "a partition key",
      "Partition key of the failing row contains (pay) = (187345).",
      "Partition key of the failing row contains (pay) = ([VALUE]).",
    ],
    ["a unique key", "Key (pay)=(187345) already exists.", "Key (pay)=([VALUE]) already exists."],
  ])(
    "hides %s of a row built from another table, which no rule on its own table covers",
    (_what, detail, expected) => {
      const out = maskTargetError(
        { message: "refused", detail, sqlState: "23514", schema: "public", table: "payroll" },
        cfg,
        { ...ctx, statementTables: ["payroll", "public.employees"] },
      );
      expect(out.detail).toBe(expected);
    },
  );

  it("shows an unruled key value when the statement names only the error's own table", () => {
    const out = maskTargetError(
      {
        message: "dup",
        detail: "Key (id)=(7) already exists.",
        sqlState: "23505",
        schema: "public",
        table: "payroll",
      },
      cfg,
      { ...ctx, statementTables: ["public.payroll"] },
    );
    expect(out.detail).toBe("Key (id)=(7) already exists.");
  });

  it("masks a detected value of an unruled key column", () => {
    const out = maskTargetError(
      { message: "duplicate key", detail: `Key (note)=(${CARD}) already exists.`, sqlState: "23505" },
      cfg,
      ctx,
    );
    expect(out.detail).not.toContain(CARD);
  });

  it("masks a failing row's ruled columns by position when the table's columns are known", () => {
    const detail = "Failing row contains (7, Grace, -1, flu).";
    expect(quotesFailingRow(detail)).toBe(true);
    const parts = { message: "check", detail, sqlState: "23514", schema: "public", table: "employees" };
    const known = maskTargetError(parts, cfg, {
      ...ctx,
      tableColumns: ["id", "name", "salary", "diagnosis"],
    });
    expect(known.detail).toBe("Failing row contains (7, Grace, [SALARY], flu).");
  });

  it.each([
    ["the columns are unknown", undefined],
    ["the row does not match the columns", ["id", "name", "salary"]],
  ])("masks every value of a failing row when %s", (_what, tableColumns) => {
    const parts = {
      message: "check",
      detail: "Failing row contains (7, Grace, -1, flu).",
      sqlState: "23514",
      schema: "public",
      table: "employees",
    };
    const out = maskTargetError(parts, cfg, { ...ctx, ...(tableColumns && { tableColumns }) });
    expect(out.detail).toBe("Failing row contains ([VALUE], [VALUE], [VALUE], [VALUE]).");
  });

  it("leaves an everyday error as the target said it", () => {
    const message = 'column "nope" does not exist';
    const out = maskTargetError({ message, hint: 'Perhaps you meant "note".', sqlState: "42703" }, cfg, ctx);
    expect(out).toEqual({ message, hint: 'Perhaps you meant "note".', types: [] });
  });
});
