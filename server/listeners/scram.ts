/**
 * The server's side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it (AuthenticationSASL,
 * SASLContinue, SASLFinal): the client's messages parsed strictly, the proof checked against stored verifiers.
 * Channel binding (SCRAM-SHA-256-PLUS) is not offered, so a client's gs2 header is "n,," or "y,,". The user
 * name inside SCRAM is ignored, as PostgreSQL does (the StartupMessage's `user` counts).
 * Not responsible for which verifiers to check (server/auth/database-credentials.ts) nor for the socket.
 */
import "server-only";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { sameDigest } from "@/server/auth";

export const SCRAM_MECHANISM = "SCRAM-SHA-256";

export class ScramError extends Error {}

export interface ClientFirst {
  gs2Header: string;
  bare: string;
  nonce: string;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

/** client-first-message = gs2-header client-first-message-bare (RFC 5802 §7). */
export function parseClientFirst(text: string): ClientFirst {
  const match = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
  if (!match) {
    if (text.startsWith("p=")) throw new ScramError("channel binding was not offered (SCRAM-SHA-256 only)");
    throw new ScramError("malformed SCRAM client-first message");
  }
  if (match[2]) throw new ScramError("SCRAM authorization identities are not supported");
  const bare = match[3] ?? "";
  const [user, nonce, ...rest] = bare.split(",");
  if (!user?.startsWith("n=") || !nonce?.startsWith("r=")) {
    throw new ScramError("malformed SCRAM client-first message");
  }
  if (rest.some((a) => a.startsWith("m="))) throw new ScramError("SCRAM extensions are not supported");
  const value = nonce.slice(2);
  if (!PRINTABLE_NONCE.test(value)) throw new ScramError("malformed SCRAM nonce");
  return { gs2Header: `${match[1]},${match[2] ?? ""},`, bare, nonce: value };
}

export function newServerNonce(): string {
  return randomBytes(18).toString("base64");
}

export function serverFirst(combinedNonce: string, salt: string, iterations: number): string {
  return `r=${combinedNonce},s=${salt},i=${iterations}`;
}

export interface ClientFinal {
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

/** client-final-message = channel-binding "," nonce ["," extensions] "," proof. */
export function parseClientFinal(text: string): ClientFinal {
  const at = text.lastIndexOf(",p=");
  if (at < 0) throw new ScramError("malformed SCRAM client-final message");
  const withoutProof = text.slice(0, at);
  const [binding, nonce] = withoutProof.split(",");
  if (!binding?.startsWith("c=") || !nonce?.startsWith("r=")) {
    throw new ScramError("malformed SCRAM client-final message");
  }
  const proof = Buffer.from(text.slice(at + 3), "base64");
  if (proof.length !== 32) throw new ScramError("malformed SCRAM proof");
  return { channelBinding: binding.slice(2), nonce: nonce.slice(2), proof, withoutProof };
}

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();

/**
 * Checks the client's final message against each candidate verifier. Returns the one whose StoredKey the
 * proof opens, and the server-final message proving to the client that we hold its verifier; or undefined.
 */
export function verifyClientFinal<C extends { storedKey: Buffer; serverKey: Buffer }>(input: {
  first: ClientFirst;
  serverFirstMessage: string;
  combinedNonce: string;
  final: ClientFinal;
  candidates: readonly C[];
}): { candidate: C; serverFinal: string } | undefined {
  const { first, final } = input;
  if (final.channelBinding !== Buffer.from(first.gs2Header).toString("base64")) {
    throw new ScramError("SCRAM channel binding does not match the client-first message");
  }
  if (final.nonce !== input.combinedNonce) throw new ScramError("SCRAM nonce does not match");
  const authMessage = `${first.bare},${input.serverFirstMessage},${final.withoutProof}`;
  let found: { candidate: C; serverFinal: string } | undefined;
  // every candidate is checked, so the time taken says nothing about which one matched
  for (const candidate of input.candidates) {
    const signature = hmac(candidate.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (final.proof[i] ?? 0) ^ (signature[i] ?? 0);
    const storedKey = createHash("sha256").update(clientKey).digest();
    if (sameDigest(storedKey, candidate.storedKey) && !found) {
      found = {
        candidate,
        serverFinal: `v=${hmac(candidate.serverKey, authMessage).toString("base64")}`,
      };
    }
  }
  return found;
}
