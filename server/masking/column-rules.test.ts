import { describe, expect, it } from "vitest";

import { compileColumnRules, DEFAULT_COLUMN_RULES, matchColumnRule, matchKeyRule } from "./column-rules";

const defaults = compileColumnRules(DEFAULT_COLUMN_RULES);

describe("column rules", () => {
  it.each([
    ["password", "password"],
    ["user_password_hash", "password"],
    ["passwd", "password"],
    ["client_secret", "secret"],
    ["access_token", "secret"],
    ["api_key", "secret"],
    ["ApiKey", "secret"],
    ["ssn", "us_ssn"],
    ["customer_ssn", "us_ssn"],
    ["card_number", "credit_card"],
    ["cc_number", "credit_card"],
    ["cvv", "cvv"],
    ["ssh_private_key", "private_key"],
  ])("masks the %s column as %s by default", (name, type) => {
    expect(matchColumnRule(defaults, { name, table: "t" })).toBe(type);
  });

  it.each(["classname", "session_count", "tokens_used", "description", "assn_id"])(
    "leaves %s alone",
    (name) => {
      expect(matchColumnRule(defaults, { name })).toBeUndefined();
    },
  );

  it("aligns patterns from the right on connection.schema.table.column", () => {
    const rules = compileColumnRules([
      { pattern: "users.ssn", type: "us_ssn" },
      { pattern: "prod.public.people.*name", type: "person_name" },
      { pattern: "*.notes", type: "free_text" },
    ]);
    expect(matchColumnRule(rules, { name: "ssn", table: "users" })).toBe("us_ssn");
    expect(matchColumnRule(rules, { name: "ssn", table: "orders" })).toBeUndefined();
    expect(matchColumnRule(rules, { name: "ssn" })).toBeUndefined();
    expect(
      matchColumnRule(rules, { name: "last_name", table: "people", schema: "public", connection: "prod" }),
    ).toBe("person_name");
    expect(
      matchColumnRule(rules, { name: "last_name", table: "people", schema: "public", connection: "staging" }),
    ).toBeUndefined();
    expect(matchColumnRule(rules, { name: "NOTES", table: "Tickets" })).toBe("free_text");
  });

  it("applies rules without a table part to JSON keys", () => {
    const rules = compileColumnRules([
      { pattern: "users.ssn", type: "us_ssn" },
      { pattern: "*.pin", type: "secret" },
    ]);
    expect(matchKeyRule(rules, "pin")).toBe("secret");
    expect(matchKeyRule(rules, "ssn")).toBeUndefined();
    expect(matchKeyRule(defaults, "password")).toBe("password");
  });
});
