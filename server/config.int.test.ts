// The console process refuses to start on a malformed configuration value: it exits with the message naming the
// variable and the accepted form, before it creates DATA_DIR or its keys, and a secret's value stays out of it.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConsoleUntilExit } from "@/test/harness/console-process";

let base: string;

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), "portcullis-config-"));
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe("a console with a malformed variable", () => {
  it.each<[string, Record<string, string>, string, string]>([
    [
      "a row limit with a unit",
      { ROW_LIMIT: "10k" },
      "ROW_LIMIT must be a whole number of at least 1",
      "10k",
    ],
    [
      "a master key of the wrong length",
      { MASTER_KEY: "s3cret-too-short" },
      "MASTER_KEY must be 32 bytes, as 64 hex characters or base64",
      "s3cret",
    ],
  ])(
    "refuses to start on %s, and writes nothing",
    async (what, env, message, value) => {
      const dataDir = path.join(base, what.replaceAll(" ", "-"));
      const run = await runConsoleUntilExit(dataDir, 120_000, env);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`failed to start: ${message}`);
      // the value is echoed for ordinary settings, never for secrets
      if (Object.keys(env)[0] === "MASTER_KEY") expect(run.output).not.toContain(value);
      else expect(run.output).toContain(`(got "${value}")`);
      // refused before anything was written: no DATA_DIR, so no generated key and no store
      expect(existsSync(dataDir)).toBe(false);
    },
    150_000,
  );
});
