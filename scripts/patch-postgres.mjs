// Runs after `npm install` (package.json "postinstall"): mends a known defect of postgres.js 3.4.9 in the copy
// installed here, because no release we can take has the fix (upstream issues 1066, 1154, 1208; pull requests
// 1168, 1209). When a connection closes while a short write waits for its setImmediate, `nextWrite` runs with
// the socket already gone and throws a TypeError nobody can catch, which ends the whole console process: a store
// that drops connections (a restart, a failover) would take the gateway down with it (decision 0021). The mend
// drops the pending bytes of a closed connection; its queries were already failed by postgres.js itself.
// Not responsible for anything else in node_modules. Idempotent; says what it did; fails when the installed
// postgres.js 3.4.9 does not look as expected, so a person looks instead of the defect coming back silently.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "postgres");
const BEFORE = "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)";
const AFTER =
  "  function nextWrite(fn) {\n    if (!socket) { chunk = nextWriteTimer = null; return false } // portcullis: closed, see scripts/patch-postgres.mjs\n    const x = socket.write(chunk, fn)";

export const COPIES = ["src/connection.js", "cjs/src/connection.js", "cf/src/connection.js"];

export function patchPostgres(dir = root) {
  const manifest = path.join(dir, "package.json");
  if (!existsSync(manifest)) return "postgres.js is not installed: nothing to mend";
  const { version } = JSON.parse(readFileSync(manifest, "utf8"));
  if (version !== "3.4.9")
    return `postgres.js ${version}: not the 3.4.9 this mend is for; check it is still needed`;
  let mended = 0;
  for (const copy of COPIES) {
    const file = path.join(dir, copy);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    if (text.includes(AFTER)) continue;
    if (!text.includes(BEFORE))
      throw new Error(`${file} does not look like postgres.js 3.4.9's: mend it by hand`);
    writeFileSync(file, text.replace(BEFORE, AFTER));
    mended++;
  }
  return mended > 0
    ? `postgres.js 3.4.9: mended a closed connection's pending write in ${mended} file(s)`
    : "";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const said = patchPostgres();
  if (said) console.log(`[portcullis] ${said}`);
}
