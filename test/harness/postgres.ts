// Starts a throwaway PostgreSQL server for integration and end-to-end tests: a fresh cluster in a temp
// dir, on a free port on 127.0.0.1, password (scram-sha-256) auth over TCP so auth failures are testable.
// Each call is independent, so tests can run several side by side. Not a pool or a migration runner.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { appendFile, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { cleanupOnExit, getFreePort } from "./free-port";

const execFileAsync = promisify(execFile);

export interface StartPostgresOptions {
  /** Superuser name; default "postgres". */
  user?: string;
  /** Superuser password; default a random one. */
  password?: string;
  /** Database to create and put in `url`; default "postgres" (which always exists). */
  database?: string;
  /** Directory with initdb and pg_ctl; default $PG_BIN or the newest /usr/lib/postgresql/<v>/bin. */
  binDir?: string;
}

export interface PostgresServer {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dataDir: string;
  /** Stops the server (fast shutdown) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** Finds the PostgreSQL server binaries: $PG_BIN, else the newest version under /usr/lib/postgresql. */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((version) => existsSync(join(root, version, "bin", "initdb")))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(
      "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb); run `npm run setup:system` or set PG_BIN",
    );
  }
  return join(root, newest, "bin");
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** initdb and postgres refuse to run as root, so as root the commands run as the `postgres` OS user. */
function asServerUser(file: string, args: string[]): [string, string[]] {
  if (!isRoot) return [file, args];
  return ["su", ["postgres", "-s", "/bin/sh", "-c", [file, ...args].map(shellQuote).join(" ")]];
}

async function run(file: string, args: string[], cwd: string): Promise<void> {
  const [command, commandArgs] = asServerUser(file, args);
  try {
    await execFileAsync(command, commandArgs, { cwd, env: { ...process.env, LC_ALL: "C.UTF-8" } });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} failed:\n${stderr || stdout}`.trim(), { cause: error });
  }
}

function stopSync(pgCtl: string, dataDir: string, baseDir: string): void {
  const [command, args] = asServerUser(pgCtl, ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "10"]);
  try {
    execFileSync(command, args, { cwd: "/", stdio: "ignore" });
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
  }
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function buildUrl(user: string, password: string, host: string, port: number, database: string): string {
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return `postgres://${credentials}@${host}:${port}/${encodeURIComponent(database)}`;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? findPostgresBinDir();
  const user = options.user ?? "postgres";
  const password = options.password ?? `pw_${randomBytes(12).toString("hex")}`;
  const host = "127.0.0.1";
  const initdb = join(binDir, "initdb");
  const pgCtl = join(binDir, "pg_ctl");

  const baseDir = await mkdtemp(join(tmpdir(), "ptc-pg-"));
  const dataDir = join(baseDir, "data");
  const logFile = join(baseDir, "postgres.log");
  const passwordFile = join(baseDir, "pwfile");
  let unregister = cleanupOnExit(() => rmSync(baseDir, { recursive: true, force: true }));

  try {
    await mkdir(dataDir, { mode: 0o700 });
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    await writeFile(logFile, "");
    if (isRoot) await chownToPostgres([baseDir, dataDir, passwordFile, logFile]);

    await run(
      initdb,
      [
        "-D",
        dataDir,
        "-U",
        user,
        `--pwfile=${passwordFile}`,
        "--auth-host=scram-sha-256",
        // The socket lives in our private temp dir; trust there only helps someone debugging with psql.
        "--auth-local=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
        "--no-instructions",
      ],
      baseDir,
    );
    await rm(passwordFile, { force: true });

    // Bind races with other parallel starts are possible between getFreePort and listen: retry a few times.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort(host);
      await appendFile(
        join(dataDir, "postgresql.conf"),
        [
          "",
          "# portcullis test harness",
          `port = ${port}`,
          `listen_addresses = '${host}'`,
          `unix_socket_directories = '${baseDir}'`,
          "password_encryption = 'scram-sha-256'",
          "fsync = off",
          "synchronous_commit = off",
          "full_page_writes = off",
          "shared_buffers = '32MB'",
          "max_connections = 100",
          "log_min_messages = warning",
          "",
        ].join("\n"),
      );
      unregister();
      unregister = cleanupOnExit(() => stopSync(pgCtl, dataDir, baseDir));
      try {
        await run(pgCtl, ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "60", "-s"], baseDir);
        break;
      } catch (error) {
        const log = await tail(logFile);
        if (attempt < 3 && /could not bind|address already in use/i.test(log)) continue;
        throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n--- log ---\n${log}`, {
          cause: error,
        });
      }
    }

    const database = options.database ?? "postgres";
    const adminUrl = buildUrl(user, password, host, port, "postgres");
    if (database !== "postgres") await createDatabase(adminUrl, database);
    else await checkConnection(adminUrl);

    let isStopped = false;
    return {
      url: buildUrl(user, password, host, port, database),
      host,
      port,
      user,
      password,
      database,
      dataDir,
      async stop() {
        if (isStopped) return;
        isStopped = true;
        unregister();
        try {
          await run(pgCtl, ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30", "-s"], "/");
        } finally {
          await rm(baseDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    unregister();
    try {
      stopSync(pgCtl, dataDir, baseDir);
    } catch {
      // The server may never have started; the directory is gone either way.
    }
    throw error;
  }
}

async function chownToPostgres(paths: string[]): Promise<void> {
  const { stdout } = await execFileAsync("id", ["-u", "postgres"]).catch(() => {
    throw new Error("no `postgres` OS user: install the postgresql package (npm run setup:system)");
  });
  const { stdout: gidOut } = await execFileAsync("id", ["-g", "postgres"]);
  const uid = Number(stdout.trim());
  const gid = Number(gidOut.trim());
  for (const path of paths) await chown(path, uid, gid);
}

async function checkConnection(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Creates a database on the server `url` points at (connected as that URL's user). */
export async function createDatabase(url: string, name: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`create database ${sql(name)}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const target = new URL(url);
  target.pathname = `/${encodeURIComponent(name)}`;
  return target.toString();
}
