/**
 * Configuration from the environment (see README), plus the keys generated into DATA_DIR on first start.
 * Not responsible for validating requests or reading the store.
 */
import "server-only";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface GatewayConfig {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  masterKey: Buffer;
  authSecret: string;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  demoTarget: boolean;
  sessionMaxAgeSeconds: number;
  /**
   * How many reverse proxies in front of the console append to X-Forwarded-For (TRUST_PROXY); 0 trusts none
   * and uses the connection's own address (sign-in throttling, audit).
   */
  trustProxyHops: number;
  /** recordings of sessions that ended longer ago than this are deleted; undefined keeps them forever */
  retentionDays: number | undefined;
  /** discovered sensitive columns: how much a scan samples, and how often it runs in the background */
  classification: {
    sampleRows: number;
    maxTables: number;
    statementTimeoutMs: number;
    /** minutes between background scans of each connection; undefined: only "Scan now" */
    intervalMinutes: number | undefined;
  };
  oidc:
    | { issuer: string; clientId: string; clientSecret: string; groupsClaim: string; name: string }
    | undefined;
  /** SAML 2.0 sign-in (server/auth/saml); undefined when neither SAML_METADATA_URL nor SAML_METADATA_FILE is set */
  saml: SamlConfig | undefined;
  /** the PostgreSQL wire listener (server/listeners); undefined when PG_LISTEN_PORT is unset */
  pgListen: PgListenConfig | undefined;
}

const CONFIG = Symbol.for("portcullis.config");
type Holder = { [CONFIG]?: GatewayConfig };

/** Group and other bits: none may be set on DATA_DIR or a key file (the store and keys are private). */
const SHARED_BITS = 0o077;
const KEY_FILES = ["master.key", "auth.key"];

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/**
 * Creates DATA_DIR private (0700) when it is missing, and refuses to start when an existing one, or a key file
 * in it, can be read, written or entered by other users: the store inside holds recordings and raw values
 * before masking. The message says how to fix it.
 */
function preparePrivateDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fix = `run: chmod -R go-rwx ${JSON.stringify(dataDir)} (and start again)`;
  const dir = statSync(dataDir);
  if (!dir.isDirectory()) throw new Error(`DATA_DIR ${dataDir} is not a directory`);
  if (dir.mode & SHARED_BITS) {
    throw new Error(
      `DATA_DIR ${dataDir} is open to other users (mode ${octal(dir.mode)}); it holds the store and keys: ${fix}`,
    );
  }
  for (const file of KEY_FILES) {
    const keyPath = path.join(dataDir, file);
    if (!existsSync(keyPath)) continue;
    const mode = statSync(keyPath).mode;
    if (mode & SHARED_BITS) {
      throw new Error(`${keyPath} is open to other users (mode ${octal(mode)}): ${fix}`);
    }
  }
}

/** Reads a 32-byte key from the environment (hex or base64) or from a file in DATA_DIR, creating it. */
function loadKey(envValue: string | undefined, dataDir: string, file: string, what: string): Buffer {
  if (envValue) {
    const key = /^[0-9a-f]{64}$/i.test(envValue)
      ? Buffer.from(envValue, "hex")
      : Buffer.from(envValue, "base64");
    if (key.length !== 32) throw new Error(`${what} must be 32 bytes, as 64 hex characters or base64`);
    return key;
  }
  const keyPath = path.join(dataDir, file);
  if (existsSync(keyPath)) return Buffer.from(readFileSync(keyPath, "utf8").trim(), "hex");
  const key = randomBytes(32);
  writeFileSync(keyPath, key.toString("hex"), { mode: 0o600 });
  if (file === "master.key") {
    console.warn(
      `[portcullis] MASTER_KEY is not set: generated one into ${keyPath}. Back it up: without it stored credentials cannot be decrypted.`,
    );
  }
  return key;
}

/** RETENTION_DAYS: a positive number of days; unset, empty, 0 or "off" keeps recordings forever. */
export function parseRetentionDays(value: string | undefined): number | undefined {
  const text = value?.trim().toLowerCase() ?? "";
  if (text === "" || text === "off" || text === "0") return undefined;
  const days = Number(text);
  if (!Number.isFinite(days) || days <= 0) {
    throw new Error(`RETENTION_DAYS must be a positive number of days, or "off" (got "${value}")`);
  }
  return days;
}

/** A whole number at least `min` (default `fallback` when unset or empty), or a clear start-up error. */
export function parseCount(name: string, value: string | undefined, fallback: number, min = 1): number {
  const text = value?.trim() ?? "";
  if (text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be a whole number of at least ${min} (got "${value}")`);
  return n;
}

/** CLASSIFICATION_SCAN_INTERVAL_MINUTES: minutes between background scans; "off" or 0 turns them off. */
export function parseScanInterval(value: string | undefined): number | undefined {
  const text = value?.trim().toLowerCase() ?? "";
  if (text === "off" || text === "0") return undefined;
  return parseCount("CLASSIFICATION_SCAN_INTERVAL_MINUTES", text, 1440);
}

/** TRUST_PROXY: unset, "off", "false" or 0 trust no proxy; "true" or "on" one; a number that many hops. */
export function parseTrustProxy(value: string | undefined): number {
  const text = value?.trim().toLowerCase() ?? "";
  if (text === "" || text === "off" || text === "false" || text === "0") return 0;
  if (text === "true" || text === "on") return 1;
  const hops = Number(text);
  if (!Number.isInteger(hops) || hops < 0 || hops > 10) {
    throw new Error(`TRUST_PROXY must be "off", "on" or a number of proxies from 0 to 10 (got "${value}")`);
  }
  return hops;
}

// --- PostgreSQL wire listener (PG_LISTEN_*) ---

export interface PgListenConfig {
  port: number;
  host: string;
  /** PEM files for TLS; both unset means a self-signed certificate generated into DATA_DIR */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** accept plain-text (non-TLS) clients from any address, not only loopback */
  allowPlaintext: boolean;
  /** a client sending nothing for this long is closed (57P05, or 25P03 inside a transaction); undefined: never */
  idleTimeoutSeconds: number | undefined;
}

/** PG_LISTEN_IDLE_TIMEOUT when unset: half an hour, like a console terminal's default idle limit. */
export const DEFAULT_PG_IDLE_TIMEOUT_SECONDS = 1800;

/** PG_LISTEN_PORT enables the listener; the other PG_LISTEN_* variables shape it. Throws naming the variable. */
export function parsePgListen(env: Record<string, string | undefined>): PgListenConfig | undefined {
  const portText = env.PG_LISTEN_PORT?.trim() ?? "";
  if (portText === "" || portText === "off") return undefined;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PG_LISTEN_PORT must be a port number (0-65535), or "off" (got "${env.PG_LISTEN_PORT}")`);
  }
  const tlsCertFile = env.PG_LISTEN_TLS_CERT?.trim() || undefined;
  const tlsKeyFile = env.PG_LISTEN_TLS_KEY?.trim() || undefined;
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    throw new Error("PG_LISTEN_TLS_CERT and PG_LISTEN_TLS_KEY must be set together (or neither)");
  }
  const plaintext = env.PG_LISTEN_ALLOW_PLAINTEXT?.trim().toLowerCase() ?? "";
  if (!["", "on", "off"].includes(plaintext)) {
    throw new Error(
      `PG_LISTEN_ALLOW_PLAINTEXT must be "on" or "off" (got "${env.PG_LISTEN_ALLOW_PLAINTEXT}")`,
    );
  }
  const idleText = env.PG_LISTEN_IDLE_TIMEOUT?.trim().toLowerCase() ?? "";
  const idle = idleText === "" ? DEFAULT_PG_IDLE_TIMEOUT_SECONDS : Number(idleText);
  if (idleText !== "off" && (!Number.isInteger(idle) || idle < 10 || idle > 7 * 86_400)) {
    throw new Error(
      `PG_LISTEN_IDLE_TIMEOUT must be seconds between 10 and 604800, or "off" (got "${env.PG_LISTEN_IDLE_TIMEOUT}")`,
    );
  }
  return {
    port,
    host: env.PG_LISTEN_HOST?.trim() || "0.0.0.0",
    tlsCertFile,
    tlsKeyFile,
    allowPlaintext: plaintext === "on",
    idleTimeoutSeconds: idleText === "off" ? undefined : idle,
  };
}

// --- end of the PostgreSQL wire listener ---

// --- SAML 2.0 sign-in (SAML_*) ---

export interface SamlConfig {
  /** where the identity provider's metadata is read from: exactly one of the two */
  metadataUrl: string | undefined;
  metadataFile: string | undefined;
  /** the console's own entity ID (the audience the identity provider must name) */
  entityId: string;
  /** the assertion attribute whose values become group memberships */
  groupsAttribute: string;
  /** the attribute that carries the email; unset: NameID when it is an email, else email/mail attributes */
  emailAttribute: string | undefined;
  /** shown on the sign-in button */
  name: string;
  /** how far the identity provider's clock may be from the console's, in seconds */
  clockSkewSeconds: number;
}

/** SAML_METADATA_URL or SAML_METADATA_FILE enables SAML sign-in; the other SAML_* variables shape it. */
export function parseSaml(
  env: Record<string, string | undefined>,
  publicUrl: string,
): SamlConfig | undefined {
  const metadataUrl = env.SAML_METADATA_URL?.trim() || undefined;
  const metadataFile = env.SAML_METADATA_FILE?.trim() || undefined;
  if (!metadataUrl && !metadataFile) return undefined;
  if (metadataUrl && metadataFile) {
    throw new Error("set SAML_METADATA_URL or SAML_METADATA_FILE, not both");
  }
  if (metadataUrl) {
    let url: URL;
    try {
      url = new URL(metadataUrl);
    } catch {
      throw new Error(`SAML_METADATA_URL must be an http(s) URL (got "${metadataUrl}")`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new Error(`SAML_METADATA_URL must be an http(s) URL (got "${metadataUrl}")`);
    }
  }
  return {
    metadataUrl,
    metadataFile: metadataFile ? path.resolve(metadataFile) : undefined,
    entityId: env.SAML_ENTITY_ID?.trim() || `${publicUrl}/api/auth/saml/metadata`,
    groupsAttribute: env.SAML_GROUPS_ATTRIBUTE?.trim() || "groups",
    emailAttribute: env.SAML_EMAIL_ATTRIBUTE?.trim() || undefined,
    name: env.SAML_NAME?.trim() || "SAML single sign-on",
    clockSkewSeconds: parseCount("SAML_CLOCK_SKEW_SECONDS", env.SAML_CLOCK_SKEW_SECONDS, 60, 0),
  };
}

// --- end of SAML 2.0 sign-in ---

export function getConfig(): GatewayConfig {
  const holder = globalThis as Holder;
  const cached = holder[CONFIG];
  if (cached) return cached;
  const env = process.env;
  const dataDir = path.resolve(env.DATA_DIR ?? "./data");
  preparePrivateDataDir(dataDir);
  const port = Number(env.PORT ?? 3000);
  const oidcIssuer = env.OIDC_ISSUER;
  const publicUrl = (env.PUBLIC_URL ?? env.NEXTAUTH_URL ?? `http://localhost:${port}`).replace(/\/$/, "");
  const config: GatewayConfig = {
    port,
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    publicUrl,
    masterKey: loadKey(env.MASTER_KEY, dataDir, "master.key", "MASTER_KEY"),
    authSecret:
      env.AUTH_SECRET ?? env.NEXTAUTH_SECRET ?? loadKey(undefined, dataDir, "auth.key", "").toString("hex"),
    adminEmail: env.ADMIN_EMAIL || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    demoTarget: env.DEMO_TARGET !== "off",
    sessionMaxAgeSeconds: Number(env.SESSION_MAX_AGE ?? 8 * 3600),
    trustProxyHops: parseTrustProxy(env.TRUST_PROXY),
    retentionDays: parseRetentionDays(env.RETENTION_DAYS),
    classification: {
      sampleRows: parseCount("CLASSIFICATION_SAMPLE_ROWS", env.CLASSIFICATION_SAMPLE_ROWS, 200),
      maxTables: parseCount("CLASSIFICATION_MAX_TABLES", env.CLASSIFICATION_MAX_TABLES, 100),
      statementTimeoutMs: parseCount(
        "CLASSIFICATION_STATEMENT_TIMEOUT_MS",
        env.CLASSIFICATION_STATEMENT_TIMEOUT_MS,
        5000,
      ),
      intervalMinutes: parseScanInterval(env.CLASSIFICATION_SCAN_INTERVAL_MINUTES),
    },
    oidc:
      oidcIssuer && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET
        ? {
            issuer: oidcIssuer.replace(/\/$/, ""),
            clientId: env.OIDC_CLIENT_ID,
            clientSecret: env.OIDC_CLIENT_SECRET,
            groupsClaim: env.OIDC_GROUPS_CLAIM ?? "groups",
            name: env.OIDC_NAME ?? "single sign-on",
          }
        : undefined,
    saml: parseSaml(env, publicUrl),
    pgListen: parsePgListen(env),
  };
  holder[CONFIG] = config;
  return config;
}
