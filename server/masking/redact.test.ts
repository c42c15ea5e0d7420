import { describe, expect, it } from "vitest";

import { type MaskingConfig, maskText, maskValue } from "./index";

const KEY = "test-pseudonym-key-0123456789abcdef";
const withStyle = (defaultStyle: MaskingConfig["defaultStyle"], pseudonymKey = KEY): MaskingConfig => ({
  defaultStyle,
  pseudonymKey,
  columnRules: [],
});

const PARTIAL: ReadonlyArray<[string, string, string]> = [
  ["a spaced card keeps its last four", "4242 4242 4242 4242", "**** **** **** 4242"],
  ["a bare card keeps its last four", "4242424242424242", "************4242"],
  ["an email keeps its first letter and domain", "jane.doe@example.com", "j***@example.com"],
  ["a US phone keeps its last four digits", "(555) 123-4567", "(***) ***-4567"],
  ["an SSN keeps its serial", "123-45-6789", "***-**-6789"],
  ["an IPv4 keeps its network half", "10.20.30.40", "10.20.***.***"],
  ["an IBAN keeps its country and last four", "DE89 3704 0044 0532 0130 00", "DE** **** **** **** **30 00"],
  ["a GitHub token keeps its prefix only", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_****"],
  ["a password shows nothing", "password=hunter2", "password=********"],
];

describe("redaction styles", () => {
  it("full style shows the type as a label", () => {
    expect(maskText("mail jane@example.com", withStyle("full")).text).toBe("mail [EMAIL]");
  });

  it.each(PARTIAL)("partial style: %s", (_name, value, shown) => {
    expect(maskText(value, withStyle("partial")).text).toBe(shown);
  });

  it("pseudonyms are stable for equal values, so analysts can join and count", () => {
    const cfg = withStyle("pseudonym");
    const a = maskText("jane@example.com", cfg).text;
    expect(a).toMatch(/^email_[0-9a-f]{12}$/);
    expect(maskText("JANE@example.com", cfg).text).toBe(a);
    expect(maskText("4242 4242 4242 4242", cfg).text).toBe(maskText("4242-4242-4242-4242", cfg).text);
    expect(maskText("john@example.com", cfg).text).not.toBe(a);
  });

  it("pseudonyms depend on the key", () => {
    const a = maskText("jane@example.com", withStyle("pseudonym", "key-one-0123456789")).text;
    const b = maskText("jane@example.com", withStyle("pseudonym", "key-two-0123456789")).text;
    expect(a).not.toBe(b);
  });

  it("refuses pseudonyms without a key", () => {
    expect(() => maskText("jane@example.com", withStyle("pseudonym", ""))).toThrow(/pseudonymKey/);
  });

  it("styles are chosen per type", () => {
    const cfg: MaskingConfig = {
      ...withStyle("full"),
      styles: { email: "pseudonym", credit_card: "partial" },
    };
    expect(maskText("jane@example.com 4242424242424242 123-45-6789", cfg).text).toMatch(
      /^email_[0-9a-f]{12} \*{12}4242 \[US_SSN\]$/,
    );
  });

  it("private keys are always shown as a label", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    for (const style of ["full", "partial", "pseudonym"] as const) {
      expect(maskText(pem, withStyle(style)).text).toBe("[PRIVATE_KEY]");
    }
  });
});

describe("a column rule's partial style on a value of another shape", () => {
  const cfg: MaskingConfig = { ...withStyle("partial"), columnRules: [{ pattern: "v", type: "x" }] };
  const ruled = (type: string, value: string) =>
    maskValue(value, { ...cfg, columnRules: [{ pattern: "v", type }] }, { name: "v" }).value;

  it.each([
    ["credit_card", "not on file 0042", "not on file"],
    ["credit_card", "diagnosis: flu 12", "flu"],
    ["phone", "call Grace after 5", "Grace"],
    ["ipv4", "chronic.flu.case.12", "chronic"],
    ["ipv6", "secret:plan:b", "secret"],
    ["mac_address", "ab:cd:ef is the code", "ab:cd"],
    ["iban", "DE is where she lives", "where she lives"],
  ])("a %s rule shows nothing of %j", (type, value, secret) => {
    expect(String(ruled(type, value))).not.toContain(secret);
  });

  it.each([
    ["credit_card", "4242 4242 4242 4242", "**** **** **** 4242"],
    ["phone", "(555) 123-4567", "(***) ***-4567"],
    ["ipv4", "10.20.30.40", "10.20.***.***"],
    ["iban", "DE89 3704 0044 0532 0130 00", "DE** **** **** **** **30 00"],
  ])("a %s rule keeps the partial form of a value of its shape", (type, value, shown) => {
    expect(ruled(type, value)).toBe(shown);
    // and a second pass over the masked value changes nothing
    expect(ruled(type, shown)).toBe(shown);
  });
});
