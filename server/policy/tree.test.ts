import { describe, expect, it } from "vitest";
import { parseQualifiedName } from "./tree";

describe("parseQualifiedName", () => {
  it.each([
    ["payroll", "payroll"],
    ["PayRoll", "payroll"],
    ["public.payroll", "public.payroll"],
    [" public . payroll ", "public.payroll"],
    ['"Pay.Roll"', "pay.roll"],
    ['hr."Pay""Roll"', 'hr.pay"roll'],
    ["db.hr.payroll", "db.hr.payroll"],
  ])("reads %j as %j, as PostgreSQL reads a regclass", (text, expected) => {
    expect(parseQualifiedName(text)).toBe(expected);
  });

  it.each([[""], ["a..b"], ['"unclosed'], ["a.b.c.d"], ['"a"b'], ["."]])(
    "gives up on %j, so the caller counts every table",
    (text) => {
      expect(parseQualifiedName(text)).toBeUndefined();
    },
  );
});
