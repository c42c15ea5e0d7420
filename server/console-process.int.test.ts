// The console process itself (server.ts, embedded store, admin command line), started for real: its DATA_DIR is
// private (created 0700, files 0600, unreadable by another user, and an open one refuses start-up with the fix),
// admin commands run at the same time all succeed, and a closed log pipe neither stops nor spins it.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsoleProcess,
  runAdmin,
  runConsoleUntilExit,
  startConsoleProcess,
} from "@/test/harness/console-process";

let base: string;
let dataDir: string;
let console_: ConsoleProcess;

beforeAll(async () => {
  // The parent is open to everyone (like a home directory or /srv): only DATA_DIR's own modes protect it.
  base = mkdtempSync(path.join(tmpdir(), "portcullis-process-"));
  chmodSync(base, 0o755);
  dataDir = path.join(base, "data");
  console_ = await startConsoleProcess(dataDir);
}, 240_000);

afterAll(async () => {
  await console_?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return lstatSync(full).isDirectory() ? [full, ...walk(full)] : [full];
  });
}

/** Exit code of `cat FILE` run as the unprivileged user nobody. */
function catAsNobody(file: string): number | null {
  return spawnSync("runuser", ["-u", "nobody", "--", "cat", file], { stdio: "ignore" }).status;
}

describe("private data files", () => {
  it("creates DATA_DIR 0700 and every file in it without group or other access", async () => {
    // Something written through the store first (a user, over the admin socket), so the WAL has moved.
    expect((await runAdmin(dataDir, ["group", "add", "modes-check"])).code).toBe(0);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    const open = walk(dataDir)
      .map((file) => ({ file: path.relative(dataDir, file), mode: lstatSync(file).mode & 0o777 }))
      .filter(({ mode }) => (mode & 0o077) !== 0);
    expect(open).toEqual([]);
    expect(walk(dataDir).length).toBeGreaterThan(20);
  });

  it("keeps the keys, the store and its WAL from another local user", () => {
    const wal = readdirSync(path.join(dataDir, "store", "pg_wal")).find((f) => /^[0-9A-F]{24}$/.test(f));
    expect(wal).toBeDefined();
    for (const file of ["master.key", "auth.key", "store/PG_VERSION", `store/pg_wal/${wal}`]) {
      expect(existsSync(path.join(dataDir, file))).toBe(true);
      expect(catAsNobody(path.join(dataDir, file)), file).not.toBe(0);
    }
    // The check itself works: nobody can read a file that is open to it.
    const open = path.join(base, "open.txt");
    writeFileSync(open, "x", { mode: 0o644 });
    chmodSync(open, 0o644);
    expect(catAsNobody(open)).toBe(0);
  });

  it.each<[string, (dir: string) => void, string]>([
    ["a DATA_DIR readable by others", (dir) => chmodSync(dir, 0o755), "mode 0755"],
    ["a DATA_DIR writable by its group", (dir) => chmodSync(dir, 0o770), "mode 0770"],
    ["a master.key readable by others", (dir) => writeKey(dir, "master.key", 0o644), "master.key is open"],
    ["an auth.key readable by its group", (dir) => writeKey(dir, "auth.key", 0o640), "auth.key is open"],
  ])("refuses to start on %s, and says how to fix it", async (_what, prepare, named) => {
    const dir = mkdtempSync(path.join(tmpdir(), "portcullis-open-"));
    try {
      prepare(dir);
      const run = await runConsoleUntilExit(dir);
      expect(run.code).toBe(1);
      expect(run.output).toContain(named);
      expect(run.output).toContain(`chmod -R go-rwx "${dir}"`);
      expect(existsSync(path.join(dir, "store"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function writeKey(dir: string, file: string, mode: number) {
  writeFileSync(path.join(dir, file), "ab".repeat(32));
  chmodSync(path.join(dir, file), mode);
}

describe("the admin command line against a running console", () => {
  it("runs several admin commands at once, all of them", async () => {
    const names = Array.from({ length: 6 }, (_, i) => `together-${i}`);
    const runs = await Promise.all([
      ...names.map((name) => runAdmin(dataDir, ["group", "add", name])),
      runAdmin(dataDir, ["user", "list"]),
      runAdmin(dataDir, ["connection", "list"]),
    ]);
    expect(runs.map((r) => (r.code === 0 ? "ok" : r.stderr))).toEqual(runs.map(() => "ok"));
    const listed = await runAdmin(dataDir, ["group", "list"]);
    for (const name of names) expect(listed.stdout).toContain(name);
  });
});

describe("odd path parameters on the running console", () => {
  it.each([
    ["POST", "/api/v1/connections/%00/exec"],
    ["POST", "/api/v1/connections/%00/check"],
    ["POST", "/api/v1/connections/%/exec"],
    ["POST", "/api/v1/connections/%ED%A0%80/exec"],
    ["GET", "/api/v1/connections/%00"],
    ["GET", "/api/v1/connections/%"],
    ["GET", "/api/v1/sessions/%00"],
    ["GET", "/api/v1/sessions/%C0%AF"],
  ])("answers %s %s with a 4xx, on the data path and through Next", async (method, path_) => {
    token ??= (await runAdmin(dataDir, ["token", "create", "--name", "path-prober"])).stdout.trim();
    expect(token).toMatch(/^pt/);
    const response = await fetch(`${console_.url}${path_}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(method === "POST" && { body: JSON.stringify({ input: "select 1" }) }),
      signal: AbortSignal.timeout(60_000),
    });
    await response.arrayBuffer();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });
});
let token: string | undefined;

describe("a closed log pipe", () => {
  it("keeps answering, writes its lines to DATA_DIR/portcullis.log, and does not spin", async () => {
    const requests = 40;
    // Both kinds of request once while the pipes are open: dev mode compiles a route on its first request.
    for (const warm of ["/api/health", "/api/v1/nothing-here"])
      await (await fetch(`${console_.url}${warm}`)).arrayBuffer();
    // Whatever read the console's output goes away (a supervisor restarted): its writes now fail with EPIPE.
    console_.child.stdout?.destroy();
    console_.child.stderr?.destroy();
    for (let i = 0; i < requests; i++) {
      // Each request logs a line in dev mode; a missing route logs more.
      const path_ = i % 2 === 0 ? "/api/health" : `/api/v1/nothing-here-${i}`;
      const response = await fetch(`${console_.url}${path_}`, { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      expect(response.status).toBe(i % 2 === 0 ? 200 : 404);
    }
    // Idle for a while: a process caught in an EPIPE loop keeps writing error lines the whole time.
    const logFile = path.join(dataDir, "portcullis.log");
    const linesBefore = readFileSync(logFile, "utf8").split("\n").length;
    await new Promise((r) => setTimeout(r, 3000));
    const log = readFileSync(logFile, "utf8");
    expect(log).toMatch(/\[portcullis\] (stdout|stderr) failed \(EPIPE\)/);
    expect(log).toContain("GET /api/health 200");
    // Counting writes rather than time: about one line per request, never a feedback loop of error lines.
    expect(log.split("\n").length).toBeLessThan(requests * 20);
    expect(lstatSync(path.join(dataDir, "portcullis.log")).mode & 0o077).toBe(0);
    // Counting writes, not CPU time: idle, it writes (almost) nothing more.
    expect(log.split("\n").length - linesBefore).toBeLessThan(20);
    expect((await fetch(`${console_.url}/api/health`)).status).toBe(200);
  });
});

it("opens a DATA_DIR made with mkdir's defaults once it was fixed with the command the refusal names", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "portcullis-fixed-"));
  try {
    mkdirSync(path.join(dir, "inner"));
    chmodSync(dir, 0o755);
    const refused = await runConsoleUntilExit(dir);
    expect(refused.code).toBe(1);
    execFileSync("chmod", ["-R", "go-rwx", dir]);
    const admin = await runAdmin(dir, ["migrate"]);
    expect(admin.stderr).not.toContain("open to other users");
    expect(admin.code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
