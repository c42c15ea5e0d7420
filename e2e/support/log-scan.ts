// The console's whole server log scanned for the target credentials and the demo data's sensitive values, once
// every journey has used the console (global teardown, so it holds whatever order the journeys ran in).
// Masked values never reach a log; credentials never do. Names what leaked by kind, never the value itself.
import { readFileSync } from "node:fs";
import { generateSampleData } from "../../server/demo/sample-data";

export function secretsInLog(logFile: string, targetPassword: string): string[] {
  const log = readFileSync(logFile, "utf8");
  if (log.length === 0) return ["the console log is empty (nothing was scanned)"];
  const found: string[] = [];
  if (log.includes(targetPassword)) found.push("the e2e target's password");
  if (log.includes("demo-password")) found.push("the demo target's password");
  // SAML: a hand-off secret signs a browser in; an answer (base64 of "<samlp:Response") carries a person's
  // identity and groups. Neither belongs in a log.
  if (/portcullis\.saml-handoff=[A-Za-z0-9_-]{43}/.test(log)) found.push("a SAML hand-off secret");
  if (log.includes("PHNhbWxwOlJlc3BvbnNl")) found.push("a SAML answer");
  const data = generateSampleData();
  const values: [string, string][] = [
    ...data.customers.flatMap((c): [string, string][] => [
      ["a customer email", c.email],
      ["a card number", c.card_number],
      ["a card number without spaces", c.card_number.replace(/\s/g, "")],
      ["an SSN", c.ssn],
      ["a phone number", c.phone],
    ]),
    ...data.apiKeys.map((k): [string, string] => ["an API key", k.api_key]),
  ];
  for (const [kind, value] of values) if (log.includes(value)) found.push(kind);
  return [...new Set(found)];
}
