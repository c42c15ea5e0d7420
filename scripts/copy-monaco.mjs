// Copies Monaco's AMD build (node_modules/monaco-editor/min/vs) to public/vendor/monaco/vs, so the SQL editor
// loads it from the console itself and works offline. Idempotent: a stamp (package version plus the source
// tree's file count and size) skips the copy when the copy is current. The copy goes to a temporary folder
// first and is renamed into place, so an interrupted run never leaves a half-copied editor behind.
// Usage: `node scripts/copy-monaco.mjs`, or import { copyMonaco } from another script.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = path.join(root, "node_modules", "monaco-editor");
const source = path.join(packageDir, "min", "vs");
const targetParent = path.join(root, "public", "vendor", "monaco");
const target = path.join(targetParent, "vs");
const stampFile = path.join(targetParent, ".stamp.json");

function treeSummary(dir) {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeSummary(full);
      files += sub.files;
      bytes += sub.bytes;
    } else {
      files += 1;
      bytes += statSync(full).size;
    }
  }
  return { files, bytes };
}

/** Copies Monaco unless the copy is up to date; returns what it did. */
export function copyMonaco({ quiet = false } = {}) {
  const log = (message) => {
    if (!quiet) console.log(`[portcullis] ${message}`);
  };
  if (!existsSync(path.join(source, "loader.js"))) {
    throw new Error(`monaco-editor is not installed (${source}/loader.js is missing): run npm install`);
  }
  const { version } = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));
  const stamp = JSON.stringify({ version, ...treeSummary(source) });
  if (existsSync(path.join(target, "loader.js")) && existsSync(stampFile)) {
    if (readFileSync(stampFile, "utf8") === stamp) {
      log(`Monaco ${version} is up to date in public/vendor/monaco`);
      return "up-to-date";
    }
  }
  mkdirSync(targetParent, { recursive: true });
  const staging = path.join(targetParent, `vs.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  cpSync(source, staging, { recursive: true, preserveTimestamps: true });
  rmSync(stampFile, { force: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  writeFileSync(stampFile, stamp);
  log(`copied Monaco ${version} to public/vendor/monaco/vs`);
  return "copied";
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    copyMonaco();
  } catch (error) {
    console.error(`[portcullis] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
