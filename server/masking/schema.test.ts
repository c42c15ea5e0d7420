import { describe, expect, it } from "vitest";

import { defaultMaskingConfig, maskingConfigSchema } from "./index";

describe("maskingConfigSchema", () => {
  it("accepts the defaults", () => {
    expect(maskingConfigSchema.safeParse(defaultMaskingConfig("0123456789abcdef0123")).success).toBe(true);
  });

  it("rejects an unknown detector type, so a typo cannot turn masking off", () => {
    const cfg = { ...defaultMaskingConfig("0123456789abcdef0123"), enabledTypes: ["emial"] };
    expect(maskingConfigSchema.safeParse(cfg).success).toBe(false);
  });

  it("requires a real key when pseudonyms are used", () => {
    const cfg = { ...defaultMaskingConfig("short"), defaultStyle: "pseudonym" };
    expect(maskingConfigSchema.safeParse(cfg).success).toBe(false);
    expect(maskingConfigSchema.safeParse({ ...cfg, pseudonymKey: "0123456789abcdef0123" }).success).toBe(
      true,
    );
  });

  it("checks column rule patterns and types", () => {
    const base = defaultMaskingConfig("0123456789abcdef0123");
    const bad = { ...base, columnRules: [{ pattern: "a.b.c.d.e", type: "x" }] };
    expect(maskingConfigSchema.safeParse(bad).success).toBe(false);
    const badType = { ...base, columnRules: [{ pattern: "users.ssn", type: "US SSN" }] };
    expect(maskingConfigSchema.safeParse(badType).success).toBe(false);
  });
});
