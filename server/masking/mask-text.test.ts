import { describe, expect, it } from "vitest";

import { DETECTOR_INFO, DETECTOR_TYPES, defaultMaskingConfig, type MaskingConfig, maskText } from "./index";

const full: MaskingConfig = { defaultStyle: "full", pseudonymKey: "", columnRules: [] };

const types = (text: string, cfg = full): string[] => maskText(text, cfg).findings.map((f) => f.type);

// Table: free text -> the types that must be found in it.
const FOUND: ReadonlyArray<[string, string, string[]]> = [
  [
    "a card number inside a support ticket body",
    "Hi, my card 4242 4242 4242 4242 was charged twice",
    ["credit_card"],
  ],
  ["a dashed card number", "pan=4000-0566-5566-5556;", ["credit_card"]],
  ["an Amex number in 4-6-5 groups", "amex 3782 822463 10005 ok", ["credit_card"]],
  ["an SSN with dashes", "SSN on file: 123-45-6789.", ["us_ssn"]],
  ["a bare SSN after its keyword", "ssn=123456789", ["us_ssn"]],
  ["an IBAN in groups", "IBAN DE89 3704 0044 0532 0130 00 (EUR)", ["iban"]],
  ["an email address", "contact <jane.doe+billing@example.co.uk>", ["email"]],
  ["a US phone in parentheses", "call (555) 123-4567 after 5pm", ["phone"]],
  ["an E.164 phone", "whatsapp +44 20 7946 0958", ["phone"]],
  ["a French phone", "tél 01 23 45 67 89", ["phone"]],
  ["an Indian mobile", "mobile 98765 43210", ["phone"]],
  ["an IPv4 address with port", "client 192.168.10.20:51234 connected", ["ipv4"]],
  ["an IPv6 address", "from 2001:db8:85a3::8a2e:370:7334 via eth0", ["ipv6"]],
  ["a MAC address", "hw 00:1a:2b:3c:4d:5e", ["mac_address"]],
  ["a dashed MAC address of digits only", "hw 00-11-22-33-44-55", ["mac_address"]],
  [
    "a JWT",
    "token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ["jwt"],
  ],
  ["an AWS access key id", "AKIAIOSFODNN7EXAMPLE in config", ["aws_access_key_id"]],
  [
    "an AWS secret",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ["aws_secret_access_key"],
  ],
  ["a GitHub token", "GH_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a", ["github_token"]],
  ["a GitLab token", "glpat-xxxxxxxxxxxxxxxxxxxx", ["gitlab_token"]],
  ["a Slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", ["slack_token"]],
  ["a Stripe key", "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["stripe_key"]],
  ["a Google API key", "key AIzaSyA-1234567890abcdefghijklmnopqrstu", ["google_api_key"]],
  ["an OpenAI key", "OPENAI=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", ["openai_api_key"]],
  ["a password assignment", "login password=hunter2 ok", ["password"]],
  ["a quoted secret with spaces", 'api_secret: "correct horse battery staple"', ["secret"]],
  ["a password in a database URL", "DATABASE_URL=postgres://app:s3cr3t!@db:5432/app", ["url_credentials"]],
  ["a Bearer token", "Authorization: Bearer abc123DEF456ghi789JKL", ["bearer_token"]],
  ["a high-entropy value", "cookie_seed=Zx8pQ2mN7vR4tY6wK1sL9dF3hJ5gB0cA", ["high_entropy_secret"]],
  ["a UK NINO with spaces", "NI number AB 12 34 56 C", ["uk_nino"]],
  ["a CPF", "CPF 529.982.247-25", ["br_cpf"]],
  ["a codice fiscale", "CF: RSSMRA85T10A562S", ["it_codice_fiscale"]],
  ["a BSN after its keyword", "BSN 111222333", ["nl_bsn"]],
  ["a Chinese resident id", "身份证 11010519491231002X", ["cn_resident_id"]],
  ["a card after an ANSI colour code", "\u001b[31m4242424242424242\u001b[0m", ["credit_card"]],
];

// Look-alikes that must stay in clear.
const CLEAR: ReadonlyArray<[string, string]> = [
  ["an ISO timestamp", "2024-05-01T12:34:56.789Z"],
  ["a date", "due 05/01/2024 or 01.05.2024"],
  ["an epoch in milliseconds", "ts=1714567890123"],
  ["a UUID", "id 550e8400-e29b-41d4-a716-446655440000"],
  ["a version", "version 1.2.3.4 and v10.0.0.1"],
  ["a user agent", "Mozilla/5.0 Chrome/124.0.6367.91"],
  ["a price", "total $1,234.56 (EUR 1 099,00)"],
  ["a git SHA", "commit 3f786850e387550fdab836ed7e6dc881de23001b"],
  ["a hex colour", "color: #ff8800;"],
  ["an order number", "order #4512334577"],
  ["a phone-shaped ticket number", "ticket 555-123-4567"],
  ["a card number failing Luhn", "4242 4242 4242 4241"],
  ["an SSN with area 000", "000-12-3456"],
  ["a bare 9-digit number", "processed 123456789 rows"],
  ["a retina image", "icon@2x.png"],
  ["an npm specifier", "lodash@4.17.21"],
  ["a C++ scope", "std::vector at 10:30"],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal shell placeholder, not a template.
  ["a placeholder password", "password=${DB_PASSWORD}"],
  ["an image digest", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
];

describe("maskText", () => {
  it.each(FOUND)("masks %s", (_name, text, expected) => {
    const r = maskText(text, full);
    expect(r.findings.map((f) => f.type)).toEqual(expected);
    for (const f of r.findings) expect(r.text).not.toContain(text.slice(f.start, f.end));
  });

  it.each(CLEAR)("leaves %s alone", (_name, text) => {
    expect(maskText(text, full)).toEqual({ text, findings: [] });
  });

  it("reports positions in the original text, never the value", () => {
    const text = "a 4242424242424242 b jane@example.com";
    const r = maskText(text, full);
    expect(r.findings).toEqual([
      { type: "credit_card", start: 2, end: 18 },
      { type: "email", start: 21, end: 37 },
    ]);
    expect(r.text).toBe("a [CREDIT_CARD] b [EMAIL]");
  });

  it("masks a PEM private key block across lines and keeps what follows", () => {
    const pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nYWJjZGVm+/==\n-----END RSA PRIVATE KEY-----";
    const r = maskText(`key:\n${pem}\n$ ls`, full);
    expect(r.text).toBe("key:\n[PRIVATE_KEY]\n$ ls");
    expect(r.findings).toEqual([{ type: "private_key", start: 5, end: 5 + pem.length }]);
  });

  it("masks a PEM block with no END line up to the first foreign character", () => {
    expect(maskText("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0B#done", full).text).toBe(
      "[PRIVATE_KEY]#done",
    );
  });

  it("keeps certificates and public keys", () => {
    const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    expect(maskText(cert, full).text).toBe(cert);
  });

  it("needs context for bare national ids that collide with other numbers", () => {
    expect(types("111222333")).toEqual([]);
    expect(types("BSN: 111222333")).toEqual(["nl_bsn"]);
    expect(maskText("111222333", full, { context: "customer_bsn" }).findings.map((f) => f.type)).toEqual([
      "nl_bsn",
    ]);
    expect(types("1112.22.333")).toEqual(["nl_bsn"]);
  });

  it("turns types off per config", () => {
    const cfg: MaskingConfig = { ...full, enabledTypes: ["email"] };
    expect(maskText("jane@example.com 4242424242424242", cfg).text).toBe("[EMAIL] 4242424242424242");
  });

  it("does not break ANSI colour sequences around an email", () => {
    expect(maskText("\u001b[32mjane@example.com\u001b[0m", full).text).toBe("\u001b[32m[EMAIL]\u001b[0m");
  });

  it("lists more than 60 detector types for the UI", () => {
    expect(DETECTOR_TYPES.length).toBeGreaterThan(60);
    expect(new Set(DETECTOR_TYPES).size).toBe(DETECTOR_TYPES.length);
    expect(DETECTOR_INFO.filter((d) => d.category === "national_id").length).toBeGreaterThanOrEqual(30);
  });

  it("uses friendly defaults: partial cards, emails and phones, full labels elsewhere", () => {
    const cfg = defaultMaskingConfig("0123456789abcdef0123456789abcdef");
    expect(maskText("4242 4242 4242 4242 / jane@example.com / 123-45-6789", cfg).text).toBe(
      "**** **** **** 4242 / j***@example.com / [US_SSN]",
    );
  });
});
