// Starts a throwaway OpenSSH server for integration and end-to-end tests: its own host key, config and
// log in a temp dir, on a free port on 127.0.0.1, with a fresh OS user that can log in by password or
// by an ed25519 key. Needs root (it creates the user). Not a general-purpose sshd manager.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupOnExit, getFreePort, waitForPort } from "./free-port";

const SSHD = "/usr/sbin/sshd";

export interface SshdServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** The user's ed25519 private key, OpenSSH format ("-----BEGIN OPENSSH PRIVATE KEY-----"), no passphrase. */
  privateKey: string;
  /** The matching public key line ("ssh-ed25519 AAAA... comment"). */
  publicKey: string;
  /** The server's host key fingerprint as OpenSSH prints it: "SHA256:<base64 without padding>". */
  hostKeyFingerprint: string;
  /** The server's host public key line, for a known_hosts entry. */
  hostPublicKey: string;
  /** Stops sshd and the user's sessions, deletes the user and its home, removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

async function exec(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${file} ${args.join(" ")} failed: ${stderr || stdout || error.message}`.trim()));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** useradd and friends take a lock on /etc/passwd; parallel test files can collide, so retry briefly. */
async function execWithLockRetry(file: string, args: string[], input?: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exec(file, args, input);
    } catch (error) {
      if (attempt >= 10 || !/lock|try again/i.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/** OpenSSH's fingerprint of a public key line: SHA256 over the decoded key blob, unpadded base64. */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (blob === undefined) throw new Error(`not an OpenSSH public key line: ${publicKeyLine}`);
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

function pidsOfUser(username: string): number[] {
  try {
    return execFileSync("ps", ["-u", username, "-o", "pid="], { encoding: "utf8", stdio: "pipe" })
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return []; // ps exits 1 when the user has no processes
  }
}

/** Kills the sessions sshd forked for our throwaway user (only processes owned by that user). */
function killUserSessions(username: string): void {
  for (const pid of pidsOfUser(username)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function deleteUserSync(username: string): void {
  killUserSessions(username);
  try {
    execFileSync("userdel", ["-r", "-f", username], { stdio: "ignore" });
  } catch {
    // userdel exits non-zero for a missing mail spool although it removed the user; checked by callers.
  }
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n") || "(log is empty)";
  } catch {
    return "(no log)";
  }
}

function sshdConfig(options: { port: number; hostKey: string; pidFile: string; username: string }): string {
  return [
    "# portcullis test harness",
    `Port ${options.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${options.hostKey}`,
    `PidFile ${options.pidFile}`,
    "AuthorizedKeysFile .ssh/authorized_keys",
    `AllowUsers ${options.username}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication yes",
    "KbdInteractiveAuthentication no",
    "PermitEmptyPasswords no",
    "UsePAM no",
    "StrictModes no",
    "PermitRootLogin no",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "MaxStartups 100",
    "MaxSessions 50",
    "MaxAuthTries 10",
    "Subsystem sftp internal-sftp",
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

export async function startSshd(): Promise<SshdServer> {
  if (process.getuid?.() !== 0) {
    throw new Error("startSshd needs root: it creates a throwaway OS user and runs sshd");
  }
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} not found: run \`npm run setup:system\` (installs openssh-server)`);
  }

  const host = "127.0.0.1";
  const username = `ptc_${randomBytes(5).toString("hex")}`;
  const password = `pw-${randomBytes(12).toString("base64url")}`;
  const baseDir = await mkdtemp(join(tmpdir(), "ptc-sshd-"));
  const hostKey = join(baseDir, "ssh_host_ed25519_key");
  const clientKey = join(baseDir, "client_ed25519_key");
  const configFile = join(baseDir, "sshd_config");
  const pidFile = join(baseDir, "sshd.pid");
  const logFile = join(baseDir, "sshd.log");

  let child: ChildProcess | undefined;
  let isUserCreated = false;
  const cleanupSync = () => {
    if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (isUserCreated) deleteUserSync(username);
    rmSync(baseDir, { recursive: true, force: true });
  };
  const unregister = cleanupOnExit(cleanupSync);

  try {
    // Privilege separation directory; Debian creates it at boot via systemd, which containers lack.
    await mkdir("/run/sshd", { recursive: true, mode: 0o755 });

    await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "portcullis-test-host", "-f", hostKey]);
    await exec("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `${username}@portcullis-test`,
      "-f",
      clientKey,
    ]);
    const hostPublicKey = (await readFile(`${hostKey}.pub`, "utf8")).trim();
    const publicKey = (await readFile(`${clientKey}.pub`, "utf8")).trim();
    const privateKey = await readFile(clientKey, "utf8");

    await execWithLockRetry("useradd", ["-m", "-s", "/bin/bash", username]);
    isUserCreated = true;
    await execWithLockRetry("chpasswd", [], `${username}:${password}\n`);

    const home = (await exec("getent", ["passwd", username])).split(":")[5];
    if (!home) throw new Error(`could not read the home directory of ${username}`);
    const sshDir = join(home, ".ssh");
    const { uid, gid } = await ownerOf(username);
    await mkdir(sshDir, { recursive: true, mode: 0o700 });
    await writeFile(join(sshDir, "authorized_keys"), `${publicKey}\n`, { mode: 0o600 });
    await chown(sshDir, uid, gid);
    await chown(join(sshDir, "authorized_keys"), uid, gid);
    await chmod(sshDir, 0o700);

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await getFreePort(host);
      await writeFile(configFile, sshdConfig({ port, hostKey, pidFile, username }));
      await exec(SSHD, ["-t", "-f", configFile]).catch((error: Error) => {
        throw new Error(`sshd rejected its config: ${error.message}`);
      });
      await writeFile(logFile, "");

      const started = spawn(SSHD, ["-D", "-f", configFile, "-E", logFile], { stdio: "ignore" });
      child = started;
      let spawnError: Error | undefined;
      started.once("error", (error) => {
        spawnError = error;
      });
      try {
        await waitForPort(port, {
          host,
          timeoutMs: 15_000,
          checkFailure: () => {
            if (spawnError) return `could not run ${SSHD}: ${spawnError.message}`;
            if (started.exitCode !== null || started.signalCode !== null) {
              return `sshd exited (${started.exitCode ?? started.signalCode}) before accepting connections`;
            }
            return undefined;
          },
        });
        break;
      } catch (error) {
        if (started.exitCode === null && started.signalCode === null) started.kill("SIGKILL");
        const log = await tail(logFile);
        if (attempt < 3 && /address already in use|cannot bind/i.test(log)) continue;
        throw new Error(`${(error as Error).message}\n--- sshd log (${logFile}) ---\n${log}`);
      }
    }

    let isStopped = false;
    return {
      host,
      port,
      username,
      password,
      privateKey,
      publicKey,
      hostKeyFingerprint: fingerprintOf(hostPublicKey),
      hostPublicKey,
      async stop() {
        if (isStopped) return;
        isStopped = true;
        unregister();
        const running = child;
        if (running && running.exitCode === null && running.signalCode === null) {
          const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
          running.kill("SIGTERM");
          const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(timer);
        }
        killUserSessions(username);
        await execWithLockRetry("userdel", ["-r", "-f", username]).catch(() => undefined);
        const isStillThere = await exec("id", [username]).then(
          () => true,
          () => false,
        );
        await rm(baseDir, { recursive: true, force: true });
        if (isStillThere) throw new Error(`could not delete the test user ${username}`);
      },
    };
  } catch (error) {
    unregister();
    cleanupSync();
    throw error;
  }
}

async function ownerOf(username: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await exec("id", ["-u", username])).trim());
  const gid = Number((await exec("id", ["-g", username])).trim());
  return { uid, gid };
}
