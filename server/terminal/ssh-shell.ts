/**
 * Opens an interactive shell on an SSH connection with ssh2, under the gateway's stored credentials: checks
 * the host key against the one pinned on the connection (pinning it on first use) and refuses a changed key,
 * then asks for a pty of the browser's size. Errors come back as sentences a person can act on.
 * Not responsible for what flows through the shell (terminal-session.ts is).
 */
import "server-only";
import { type Client, type ClientChannel, Client as SshClient } from "ssh2";
import type { Connection } from "@/db/schema";
import { GatewayError } from "@/server/errors";
import { describeNetworkError } from "@/server/targets/describe-error";
import { fingerprintHostKey } from "@/server/targets/ssh-probe";
import type { TargetSecret } from "@/server/vault";

export interface OpenShell {
  client: Client;
  stream: ClientChannel;
  hostKey: string;
  /** The host key was seen for the first time; the caller pins it. */
  isNewHostKey: boolean;
}

export function openShell(
  row: Pick<Connection, "host" | "port" | "username" | "hostKey">,
  secret: TargetSecret,
  size: { cols: number; rows: number },
): Promise<OpenShell> {
  return new Promise((resolve, reject) => {
    const client = new SshClient();
    let seenKey: string | undefined;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(new GatewayError("target_unavailable", message));
    };
    client.on("error", (err: Error & { level?: string }) => {
      if (seenKey && row.hostKey && seenKey !== row.hostKey) {
        fail(
          `The host key of ${row.host} changed (pinned ${row.hostKey}, offered ${seenKey}). Refusing the session: an admin must confirm the new key (reset the pin) if the server was rebuilt.`,
        );
        return;
      }
      if (err.level === "client-authentication") {
        fail(`${row.host} refused the stored credentials for user ${row.username}.`);
        return;
      }
      fail(
        describeNetworkError(err, row.host, row.port)?.message ??
          (err.level === "client-timeout"
            ? `No SSH handshake from ${row.host}:${row.port} in time.`
            : `SSH failed: ${err.message}`),
      );
    });
    client.on("close", () => fail(`${row.host} closed the connection before the shell opened.`));
    client.on("ready", () => {
      client.shell({ term: "xterm-256color", cols: size.cols, rows: size.rows }, (err, stream) => {
        if (err) {
          fail(`${row.host} refused a shell: ${err.message}`);
          return;
        }
        settled = true;
        resolve({ client, stream, hostKey: seenKey ?? "", isNewHostKey: !row.hostKey });
      });
    });
    try {
      client.connect({
        host: row.host,
        port: row.port,
        username: row.username,
        ...(secret.password !== undefined && { password: secret.password }),
        ...(secret.privateKey !== undefined && { privateKey: secret.privateKey }),
        ...(secret.passphrase !== undefined && { passphrase: secret.passphrase }),
        readyTimeout: 10_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        hostVerifier: (key: Buffer) => {
          seenKey = fingerprintHostKey(key);
          return !row.hostKey || row.hostKey === seenKey;
        },
      });
    } catch (err) {
      fail(`The stored SSH credentials are unusable: ${(err as Error).message}`);
    }
  });
}
