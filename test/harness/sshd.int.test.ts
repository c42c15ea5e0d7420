// Proves the sshd harness starts a real OpenSSH server that takes the user's password and key, runs
// commands, presents the advertised host key, and removes its user on stop.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Client, type ConnectConfig } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SshdServer, startSshd } from "./sshd";

function connect(config: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("ready", () => resolve(client));
    client.once("error", reject);
    client.connect({ readyTimeout: 10_000, ...config });
  });
}

function run(client: Client, command: string): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      let stdout = "";
      stream.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
      stream.stderr.resume();
      stream.once("close", (code: number | null) => resolve({ stdout, code }));
    });
  });
}

function userExists(username: string): boolean {
  try {
    execFileSync("id", [username], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("startSshd", () => {
  let server: SshdServer;

  beforeAll(async () => {
    server = await startSshd();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("logs in with the password and runs commands as the throwaway user", async () => {
    const client = await connect({
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
    });
    try {
      expect(await run(client, "echo hello")).toEqual({ stdout: "hello\n", code: 0 });
      expect((await run(client, "whoami")).stdout.trim()).toBe(server.username);
    } finally {
      client.end();
    }
  });

  it("logs in with the private key", async () => {
    expect(server.privateKey).toContain("BEGIN OPENSSH PRIVATE KEY");
    const client = await connect({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.privateKey,
    });
    try {
      expect((await run(client, "whoami")).stdout.trim()).toBe(server.username);
    } finally {
      client.end();
    }
  });

  it("refuses a wrong password", async () => {
    await expect(
      connect({ host: server.host, port: server.port, username: server.username, password: "wrong" }),
    ).rejects.toThrow(/authentication/i);
  });

  it("presents the host key whose fingerprint it reports", async () => {
    let seen = "";
    const client = await connect({
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
      hostVerifier: (key: Buffer) => {
        seen = `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
        return seen === server.hostKeyFingerprint;
      },
    });
    client.end();
    expect(seen).toBe(server.hostKeyFingerprint);
    const fromKeygen = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], {
      input: server.hostPublicKey,
      encoding: "utf8",
    });
    expect(fromKeygen).toContain(server.hostKeyFingerprint);
  });

  it("deletes its user and stops listening on stop", async () => {
    const other = await startSshd();
    const client = await connect({
      host: other.host,
      port: other.port,
      username: other.username,
      password: other.password,
    });
    // An open session must not keep the user from being deleted.
    await run(client, "true");
    await other.stop();
    client.end();
    expect(userExists(other.username)).toBe(false);
    await expect(
      connect({ host: other.host, port: other.port, username: other.username, password: other.password }),
    ).rejects.toThrow();
    await other.stop();
  });
});
