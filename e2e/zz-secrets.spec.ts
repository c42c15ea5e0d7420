// Runs last: after every journey has used the console, its whole server log is scanned for the demo data's
// sensitive values and for the target credentials. Masked values never reach a log; credentials never do.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { generateSampleData } from "../server/demo/sample-data";
import { e2eEnv } from "./support/env";

test("the console's log holds no credential and no unmasked sample value", async () => {
  const log = readFileSync(e2eEnv.consoleLog, "utf8");
  expect(log.length).toBeGreaterThan(0);
  expect(log).not.toContain(e2eEnv.targetPg.password);
  expect(log).not.toContain("demo-password");
  const data = generateSampleData();
  const leaks = [
    ...data.customers.flatMap((c) => [
      c.email,
      c.card_number,
      c.card_number.replace(/\s/g, ""),
      c.ssn,
      c.phone,
    ]),
    ...data.apiKeys.map((k) => k.api_key),
  ].filter((value) => log.includes(value));
  expect(leaks).toEqual([]);
});
