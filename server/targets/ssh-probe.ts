/**
 * "Test connection" for SSH targets: handshake, check the pinned host key, authenticate, and disconnect.
 * Reports the host key's fingerprint so an admin can pin it.
 */
import "server-only";
import { createHash } from "node:crypto";
import { Client } from "ssh2";
import type { TargetSecret } from "@/server/vault";
import { describeNetworkError, type ProbeFailure } from "./describe-error";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  hostKey: string | null;
}

export type SshProbeResult =
  | { ok: true; message: string; hostKey: string }
  | (ProbeFailure & { hostKey?: string });

export function fingerprintHostKey(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

export function probeSsh(target: SshTarget, secret: TargetSecret): Promise<SshProbeResult> {
  return new Promise((resolve) => {
    const client = new Client();
    let seenKey: string | undefined;
    let settled = false;
    const finish = (result: SshProbeResult) => {
      if (settled) return;
      settled = true;
      client.end();
      resolve(result);
    };
    client.on("ready", () =>
      finish({
        ok: true,
        message: `Signed in to ${target.host} as ${target.username}.`,
        hostKey: seenKey ?? "",
      }),
    );
    client.on("error", (err: Error & { level?: string }) => {
      if (err.level === "client-authentication") {
        finish({
          ok: false,
          stage: "auth",
          message: `${target.host} refused the credentials for user ${target.username}. Check the password or key.`,
          ...(seenKey && { hostKey: seenKey }),
        });
        return;
      }
      if (seenKey && target.hostKey && seenKey !== target.hostKey) {
        finish({
          ok: false,
          stage: "host_key",
          message: `The host key of ${target.host} changed (pinned ${target.hostKey}, offered ${seenKey}). Refusing: confirm the new key or reset the pin if the server was rebuilt.`,
          hostKey: seenKey,
        });
        return;
      }
      finish(
        describeNetworkError(err, target.host, target.port) ?? {
          ok: false,
          stage: err.level === "client-timeout" ? "timeout" : "unknown",
          message:
            err.level === "client-timeout"
              ? `No SSH handshake from ${target.host}:${target.port} in time.`
              : `SSH failed: ${err.message}`,
        },
      );
    });
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        ...(secret.password !== undefined && { password: secret.password }),
        ...(secret.privateKey !== undefined && { privateKey: secret.privateKey }),
        ...(secret.passphrase !== undefined && { passphrase: secret.passphrase }),
        readyTimeout: 8000,
        hostVerifier: (key: Buffer) => {
          seenKey = fingerprintHostKey(key);
          return !target.hostKey || target.hostKey === seenKey;
        },
      });
    } catch (err) {
      finish({
        ok: false,
        stage: "auth",
        message: `The stored SSH credentials are unusable: ${(err as Error).message}`,
      });
    }
  });
}
