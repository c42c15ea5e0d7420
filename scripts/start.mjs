// `npm start`: builds the console when the build is missing or older than the sources, then runs the
// custom server (Next.js + WebSockets) in production mode.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const buildId = path.join(root, ".next", "BUILD_ID");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

const sources = ["app", "components", "server", "db", "public"].filter((d) => existsSync(path.join(root, d)));
const sourcesMtime = Math.max(
  ...sources.map((d) => newestMtime(path.join(root, d))),
  ...["next.config.ts", "package.json"].map((f) => statSync(path.join(root, f)).mtimeMs),
);
const needsBuild =
  !existsSync(buildId) || statSync(buildId).mtimeMs < sourcesMtime || process.env.REBUILD === "1";

const run = (cmd, args, env = {}) => {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

// Monaco is served from our own origin (no CDN): copy its files into public/vendor before building.
run(process.execPath, ["scripts/copy-monaco.mjs"]);

if (needsBuild) {
  console.log("[portcullis] building the console (first start takes a few minutes)...");
  run("npx", ["next", "build"], { NEXT_TELEMETRY_DISABLED: "1" });
}
if (process.argv.includes("--build-only")) {
  if (!needsBuild) console.log("[portcullis] the build is up to date");
  process.exit(0);
}
run(process.execPath, ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs", "server.ts"], {
  NODE_ENV: "production",
  NEXT_TELEMETRY_DISABLED: "1",
});
