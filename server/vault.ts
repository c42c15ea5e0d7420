/**
 * The credential vault: seals target credentials with AES-256-GCM under MASTER_KEY before they reach the
 * store, and opens them only inside the server when a driver connects. Nothing here is ever serialised
 * towards a client.
 */
import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface TargetSecret {
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

const VERSION = "v1";

/** Returns "v1.<iv>.<tag>.<ciphertext>" (base64url parts). The connection id is bound as associated data. */
export function sealSecret(secret: TargetSecret, key: Buffer, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(JSON.stringify(secret), "utf8"), cipher.final()]);
  return [
    VERSION,
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    body.toString("base64url"),
  ].join(".");
}

export function openSecret(sealed: string, key: Buffer, associatedData: string): TargetSecret {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined)
    throw new Error("unrecognised credential envelope");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  const plain = Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as TargetSecret;
}
