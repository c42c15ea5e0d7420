/**
 * The listener's TLS certificate: the operator's PEM files (PG_LISTEN_TLS_CERT / PG_LISTEN_TLS_KEY), or a
 * self-signed one generated into DATA_DIR on first start (files 0600) and reused after, with its SHA-256
 * fingerprint for people to compare. Not responsible for the TLS handshake (pg-gateway upgrades the socket).
 */
import "server-only";
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import { hostname } from "node:os";
import path from "node:path";
import {
  bitString,
  boolean,
  explicit,
  implicit,
  integer,
  objectId,
  octetString,
  sequence,
  set,
  time,
  utf8String,
} from "./der";

export interface ListenerCertificate {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 of the certificate (DER), as colon-separated hex like `openssl x509 -fingerprint -sha256` */
  fingerprint: string;
  /** where it came from */
  source: "files" | "generated" | "generated-before";
}

const CERT_FILE = "pg-listener.crt";
const KEY_FILE = "pg-listener.key";

export function fingerprintOf(certPem: Buffer | string): string {
  const der = new X509Certificate(certPem).raw;
  return createHash("sha256").update(der).digest("hex").toUpperCase().match(/../g)?.join(":") ?? "";
}

/** Reads the configured files, or the generated pair in `dataDir`, generating it if absent. */
export async function loadListenerCertificate(options: {
  dataDir: string;
  certFile?: string;
  keyFile?: string;
}): Promise<ListenerCertificate> {
  if (options.certFile && options.keyFile) {
    const cert = readFileSync(options.certFile);
    const key = readFileSync(options.keyFile);
    return { cert, key, fingerprint: fingerprintOf(cert), source: "files" };
  }
  const certPath = path.join(options.dataDir, CERT_FILE);
  const keyPath = path.join(options.dataDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath);
    return { cert, key: readFileSync(keyPath), fingerprint: fingerprintOf(cert), source: "generated-before" };
  }
  const { cert, key } = generateSelfSigned();
  writeFileSync(keyPath, key, { mode: 0o600 });
  writeFileSync(certPath, cert, { mode: 0o600 });
  return { cert, key, fingerprint: fingerprintOf(cert), source: "generated" };
}

const ECDSA_WITH_SHA256 = sequence(objectId("1.2.840.10045.4.3.2"));

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectId(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  return ip === "::1" ? Buffer.from([...Array(15).fill(0), 1]) : Buffer.alloc(16);
}

/**
 * An ECDSA P-256 certificate valid for ten years, for localhost, the loopback addresses and this host's name.
 * It is its own CA (basic constraints), so a client can trust exactly it (`sslmode=verify-ca sslrootcert=...`).
 * Built with node's crypto and a few DER encoders (der.ts): no openssl binary, no dependency.
 */
export function generateSelfSigned(now = new Date()): { cert: Buffer; key: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = sequence(set(sequence(objectId("2.5.4.3"), utf8String("Portcullis PostgreSQL listener"))));
  const altNames = sequence(
    implicit(2, Buffer.from("localhost")),
    implicit(2, Buffer.from(hostname())),
    implicit(7, ipBytes("127.0.0.1")),
    implicit(7, ipBytes("::1")),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([1]), randomBytes(15)])),
    ECDSA_WITH_SHA256,
    name,
    sequence(time(new Date(now.getTime() - 60_000)), time(new Date(now.getTime() + 3650 * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(
      3,
      sequence(
        extension("2.5.29.19", true, sequence(boolean(true))), // basicConstraints: CA
        extension("2.5.29.15", true, bitString(Buffer.from([0x84]), 2)), // keyUsage: digitalSignature, keyCertSign
        extension("2.5.29.17", false, altNames), // subjectAltName
      ),
    ),
  );
  const signature = sign("sha256", tbs, privateKey); // DER-encoded ECDSA-Sig-Value, as X.509 wants
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${der
    .toString("base64")
    .match(/.{1,64}/g)
    ?.join("\n")}\n-----END CERTIFICATE-----\n`;
  return {
    cert: Buffer.from(cert),
    key: Buffer.from(privateKey.export({ type: "pkcs8", format: "pem" }) as string),
  };
}
