// The postinstall mend of postgres.js 3.4.9 (scripts/patch-postgres.mjs): every installed copy of its connection
// carries the guard, a pristine copy gets it (once: running again changes nothing), and a copy that does not look
// like 3.4.9's stops the install rather than being left unmended.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { COPIES, patchPostgres } from "./patch-postgres.mjs";

const INSTALLED = path.join(__dirname, "..", "node_modules", "postgres");
const GUARD = "if (!socket) { chunk = nextWriteTimer = null; return false }";
const FORGET = "errorResponse = null // portcullis";
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the installed package with the guard taken out again: what `npm install` unpacks. */
function pristineCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "portcullis-postgres-"));
  dirs.push(dir);
  cpSync(path.join(INSTALLED, "package.json"), path.join(dir, "package.json"));
  for (const copy of COPIES as string[]) {
    const text = readFileSync(path.join(INSTALLED, copy), "utf8")
      .replace(/\n {4}if \(!socket\) \{[^\n]*/, "")
      .replace(/\n {4}errorResponse = null \/\/ portcullis[^\n]*/, "");
    cpSync(path.join(INSTALLED, copy), path.join(dir, copy));
    writeFileSync(path.join(dir, copy), text);
  }
  return dir;
}

describe("the postgres.js mend", () => {
  it("is in every installed copy of the connection", () => {
    for (const copy of COPIES as string[])
      for (const mend of [GUARD, FORGET])
        expect(readFileSync(path.join(INSTALLED, copy), "utf8")).toContain(mend);
  });

  it("mends a pristine 3.4.9 once, and running again changes nothing", () => {
    const dir = pristineCopy();
    expect(readFileSync(path.join(dir, "src/connection.js"), "utf8")).not.toContain(GUARD);
    expect(readFileSync(path.join(dir, "src/connection.js"), "utf8")).not.toContain(FORGET);
    expect(patchPostgres(dir)).toMatch(/mended 3 file/);
    for (const copy of COPIES as string[]) {
      const text = readFileSync(path.join(dir, copy), "utf8");
      expect(text).toContain(GUARD);
      expect(text.split(FORGET)).toHaveLength(2);
    }
    expect(patchPostgres(dir)).toBe("");
  });

  it("stops when the connection does not look like 3.4.9's", () => {
    const dir = pristineCopy();
    const file = path.join(dir, "src/connection.js");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("function nextWrite(fn)", "function nextWrite(fn, x)"),
    );
    expect(() => patchPostgres(dir)).toThrow(/mend it by hand/);
  });
});
