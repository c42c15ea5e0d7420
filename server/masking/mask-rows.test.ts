import { describe, expect, it } from "vitest";

import { type ColumnRef, defaultMaskingConfig, type MaskingConfig, maskRows, maskValue } from "./index";

const cfg: MaskingConfig = { ...defaultMaskingConfig("rows-test-key-0123456789"), styles: {} };

describe("maskRows", () => {
  const columns: ColumnRef[] = [
    { name: "id", table: "users" },
    { name: "email", table: "users" },
    { name: "password_hash", table: "users" },
    { name: "notes", table: "users" },
    { name: "profile", table: "users" },
  ];

  it("masks cells and lists each masked cell with its type", () => {
    const rows = [
      [
        1,
        "jane@example.com",
        "$2b$10$abcdefghijklmnopqrstuv",
        "card 4242 4242 4242 4242, ssn 123-45-6789",
        null,
      ],
      [2, "no email here", null, "all good", { theme: "dark" }],
    ];
    const r = maskRows(columns, rows, cfg);
    expect(r.rows[0]).toEqual([1, "[EMAIL]", "[PASSWORD]", "card [CREDIT_CARD], ssn [US_SSN]", null]);
    expect(r.masked).toEqual([
      [0, 1, "email"],
      [0, 2, "password"],
      [0, 3, "credit_card"],
      [0, 3, "us_ssn"],
    ]);
    expect(r.rows[1]).toBe(rows[1]);
  });

  it("does not mutate the input rows", () => {
    const rows = [[1, "jane@example.com", "x", "y", { password: "hunter2" }]];
    const copy = structuredClone(rows);
    maskRows(columns, rows, cfg);
    expect(rows).toEqual(copy);
  });

  it("walks JSON objects: secret keys mask their values, nested strings are scanned", () => {
    const profile = {
      theme: "dark",
      password: "hunter2",
      contacts: [{ kind: "work", email: "jane@corp.example" }],
      api: { token: 12345678, note: "call (555) 123-4567" },
    };
    const r = maskRows(columns, [[1, null, null, null, profile]], cfg);
    expect(r.rows[0]![4]).toEqual({
      theme: "dark",
      password: "[PASSWORD]",
      contacts: [{ kind: "work", email: "[EMAIL]" }],
      api: { token: "[SECRET]", note: "call [PHONE]" },
    });
    expect(r.masked.map((m) => m[2]).sort()).toEqual(["email", "password", "phone", "secret"]);
  });

  it("walks JSON documents stored as strings and keeps unchanged ones byte for byte", () => {
    const doc = '{"user": {"ssn": "123-45-6789", "name": "Jane"}}';
    expect(maskValue(doc, cfg).value).toBe('{"user":{"ssn":"[US_SSN]","name":"Jane"}}');
    const plain = '{ "a": 1,  "b": [1, 2] }';
    expect(maskValue(plain, cfg).value).toBe(plain);
  });

  it("marks a ruled cell as masked on a second pass without changing it", () => {
    const once = maskRows(columns, [[1, null, "secret-hash", null, null]], cfg);
    const twice = maskRows(columns, once.rows, cfg);
    expect(twice.rows).toEqual(once.rows);
    expect(twice.masked).toEqual([[0, 2, "password"]]);
  });
});

describe("maskValue", () => {
  it("applies column rules to whole values whatever their content", () => {
    expect(maskValue("anything at all", cfg, { name: "api_key" })).toEqual({
      value: "[SECRET]",
      types: ["secret"],
    });
    expect(maskValue(123, cfg, { name: "cvv", table: "cards" })).toEqual({ value: "[CVV]", types: ["cvv"] });
  });

  it("uses configured column rules with table and schema", () => {
    const custom: MaskingConfig = { ...cfg, columnRules: [{ pattern: "public.patients.*", type: "phi" }] };
    expect(maskValue("flu", custom, { name: "diagnosis", table: "patients", schema: "public" }).value).toBe(
      "[PHI]",
    );
    expect(maskValue("flu", custom, { name: "diagnosis", table: "patients", schema: "audit" }).value).toBe(
      "flu",
    );
  });

  it("uses the column name as context for bare national ids", () => {
    expect(maskValue("111222333", cfg, { name: "bsn" }).types).toEqual(["nl_bsn"]);
    expect(maskValue("111222333", cfg, { name: "quantity" }).types).toEqual([]);
    expect(maskValue(5551234567, cfg, { name: "phone_number" })).toEqual({
      value: "[PHONE]",
      types: ["phone"],
    });
  });

  it("masks numbers and bigints that hold a detected value", () => {
    expect(maskValue(4242424242424242n, cfg).value).toBe("[CREDIT_CARD]");
    expect(maskValue(42, cfg).value).toBe(42);
  });

  it("keeps the shape of a ruled JSON value", () => {
    const custom: MaskingConfig = { ...cfg, styles: { password: "partial" } };
    expect(maskValue({ password: { old: "a1", new: "b2" } }, custom).value).toEqual({
      password: { old: "********", new: "********" },
    });
  });

  it("leaves values of other types untouched", () => {
    const d = new Date(0);
    expect(maskValue(d, cfg).value).toBe(d);
    expect(maskValue(true, cfg).value).toBe(true);
    expect(maskValue(undefined, cfg).value).toBeUndefined();
  });
});

describe("columns masked by lineage", () => {
  const partialCards: MaskingConfig = { ...cfg, styles: { credit_card: "partial" } };

  it("masks a computed column whole with only its label, and a plain one in its style", () => {
    const columns: ColumnRef[] = [
      { name: "r", maskAs: "credit_card", labelOnly: true },
      { name: "c", maskAs: "credit_card" },
      { name: "rich", maskAs: "salary", labelOnly: true },
    ];
    const r = maskRows(columns, [["1111 1111 1111 1114", "4111 1111 1111 1111", true]], partialCards);
    expect(r.rows[0]?.[0]).toBe("[CREDIT_CARD]");
    expect(String(r.rows[0]?.[1])).toMatch(/1111$/);
    expect(r.rows[0]?.[1]).not.toContain("4111");
    expect(r.rows[0]?.[2]).toBe("[SALARY]");
    expect(r.masked).toEqual([
      [0, 0, "credit_card"],
      [0, 1, "credit_card"],
      [0, 2, "salary"],
    ]);
  });

  it("masks only the named keys of JSON built from rows, and anything else in the column whole", () => {
    const columns: ColumnRef[] = [{ name: "doc", maskKeys: { salary: "salary" } }];
    const rows = [
      [{ id: 1, salary: 187345, note: "mail jane@example.com" }],
      [[{ id: 2, salary: 234567 }]],
      ['{"id":3,"salary":99}'],
      ["(4,187345)"],
      [null],
    ];
    const r = maskRows(columns, rows, cfg);
    expect(r.rows.map((row) => row[0])).toEqual([
      { id: 1, salary: "[SALARY]", note: "mail [EMAIL]" },
      [{ id: 2, salary: "[SALARY]" }],
      '{"id":3,"salary":"[SALARY]"}',
      "[SALARY]",
      null,
    ]);
    expect(maskValue({ salary: 5, id: 1 }, cfg, columns[0]).value).toEqual({ salary: "[SALARY]", id: 1 });
  });
});
