// Runs after `npm install` (package.json "postinstall"): mends two known defects of postgres.js 3.4.9 in the copy
// installed here, because no release we can take has the fixes.
// 1. When a connection closes while a short write waits for its setImmediate, `nextWrite` runs with the socket
//    already gone and throws a TypeError nobody can catch, which ends the whole console process: a store that
//    drops connections (a restart, a failover) would take the gateway down with it (decision 0021; upstream
//    issues 1066, 1154, 1208; pull requests 1168, 1209). The mend drops the pending bytes of a closed connection;
//    its queries were already failed by postgres.js itself.
// 2. When the server ends a connection while a query is on it (pg_terminate_backend, a protocol error, a
//    restart), its last ErrorResponse is kept for the ReadyForQuery that never comes, survives the reconnect, and
//    fails the NEXT connection's first query with the old backend's error (upstream issue 1223; the pull request
//    1215 thread). A target pool then refused a healthy session with "(08P01)" or "(57P01)" under load (our e2e
//    flake). The mend forgets that error when the connection closes; the query in flight is failed as before
//    (CONNECTION_CLOSED).
// Not responsible for anything else in node_modules. Idempotent; says what it did; fails when the installed
// postgres.js 3.4.9 does not look as expected, so a person looks instead of the defect coming back silently.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "postgres");
/** Each mend: the text of 3.4.9 and what it becomes. */
export const MENDS = [
  {
    before: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
    after:
      "  function nextWrite(fn) {\n    if (!socket) { chunk = nextWriteTimer = null; return false } // portcullis: closed, see scripts/patch-postgres.mjs\n    const x = socket.write(chunk, fn)",
  },
  {
    before: "  async function closed(hadError) {\n    incoming = Buffer.alloc(0)",
    after:
      "  async function closed(hadError) {\n    errorResponse = null // portcullis: not the next connection's, see scripts/patch-postgres.mjs\n    incoming = Buffer.alloc(0)",
  },
];

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
    let text = readFileSync(file, "utf8");
    let changed = false;
    for (const { before, after } of MENDS) {
      if (text.includes(after)) continue;
      if (!text.includes(before))
        throw new Error(`${file} does not look like postgres.js 3.4.9's: mend it by hand`);
      text = text.replace(before, after);
      changed = true;
    }
    if (!changed) continue;
    writeFileSync(file, text);
    mended++;
  }
  return mended > 0
    ? `postgres.js 3.4.9: mended ${mended} file(s) (a closed connection's pending write and last error)`
    : "";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const said = patchPostgres();
  if (said) console.log(`[portcullis] ${said}`);
}
