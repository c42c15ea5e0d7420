/**
 * Configuration: every environment variable the console reads (README, "Configuration"), parsed by one schema,
 * plus the keys generated into DATA_DIR on first start. `getSettings()` is the parsed environment (no files
 * touched); `getConfig()` adds the private DATA_DIR and the keys, and is what start-up calls first, so a
 * malformed value stops the console with a message naming the variable and the form it accepts. Nothing else
 * reads process.env (test/structure.test.ts keeps it so). Not responsible for validating requests or reading
 * the store.
 */
import "server-only";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** A malformed variable: its message names the variable and the form it accepts (never a secret's value). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const INVALID = Symbol("invalid");
type Read<T> = (text: string) => T | typeof INVALID;

/**
 * One variable: `read` turns its trimmed text ("" when unset) into a value, or INVALID; `form` completes
 * "NAME must be ..." in the message.
 */
function variable<T>(form: string, read: Read<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const value = read(raw?.trim() ?? "");
      if (value !== INVALID) return value;
      ctx.addIssue({ code: "custom", message: form });
      return z.NEVER;
    });
}

/** A whole number from `min` to `max`; unset or empty is `fallback`. */
function wholeNumber<F extends number | undefined>(fallback: F, min: number, max = Number.MAX_SAFE_INTEGER) {
  const form =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number of at least ${min}`
      : `a whole number from ${min} to ${max}`;
  return variable<number | F>(form, (text) => {
    if (text === "") return fallback;
    const n = Number(text);
    return Number.isInteger(n) && n >= min && n <= max ? n : INVALID;
  });
}

/** A number above 0 (fractions allowed); unset or empty is `fallback`. */
function positiveNumber(fallback: number, unit: string) {
  return variable(`a number of ${unit} above 0`, (text) => {
    if (text === "") return fallback;
    const n = Number(text);
    return Number.isFinite(n) && n > 0 ? n : INVALID;
  });
}

/** A whole number of at least 1, or "off" / 0 for undefined (turned off); unset or empty is `fallback`. */
function countOrOff(fallback: number | undefined, unit: string) {
  return variable(`a whole number of ${unit} (at least 1), or "off" or 0`, (text) => {
    const lower = text.toLowerCase();
    if (lower === "off" || lower === "0") return undefined;
    if (text === "") return fallback;
    const n = Number(text);
    return Number.isInteger(n) && n >= 1 ? n : INVALID;
  });
}

/** "on" or "off" (also true/false, 1/0); unset or empty is `fallback`. */
function onOff(fallback: boolean) {
  return variable(`"on" or "off"`, (text) => {
    const lower = text.toLowerCase();
    if (lower === "") return fallback;
    if (["on", "true", "1"].includes(lower)) return true;
    if (["off", "false", "0"].includes(lower)) return false;
    return INVALID;
  });
}

/** Any text; unset or empty is undefined. */
const optionalText = variable("text", (text) => text || undefined);

/** An absolute http(s) URL without the trailing slash; unset or empty is undefined. */
const httpUrl = variable("an absolute http:// or https:// URL", (text) => {
  if (text === "") return undefined;
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && (url.protocol === "http:" || url.protocol === "https:") ? text.replace(/\/$/, "") : INVALID;
});

/** A PostgreSQL connection URL; unset or empty is undefined (the embedded store). */
const postgresUrl = variable("a postgres:// or postgresql:// URL", (text) => {
  if (text === "") return undefined;
  const url = URL.canParse(text) ? new URL(text) : undefined;
  return url && (url.protocol === "postgres:" || url.protocol === "postgresql:") ? text : INVALID;
});

/** A 32-byte key given as 64 hex characters or base64; unset or empty is undefined (generated into DATA_DIR). */
const key32 = variable("32 bytes, as 64 hex characters or base64", (text) => {
  if (text === "") return undefined;
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, "hex");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return INVALID;
  const key = Buffer.from(text, "base64");
  return key.length === 32 ? key : INVALID;
});

/** RETENTION_DAYS: a positive number of days; unset, empty, 0 or "off" keeps recordings forever. */
const retentionDays = variable(`a positive number of days, or "off"`, (text) => {
  const lower = text.toLowerCase();
  if (lower === "" || lower === "off" || lower === "0") return undefined;
  const days = Number(lower);
  return Number.isFinite(days) && days > 0 ? days : INVALID;
});

/** TRUST_PROXY: unset, "off", "false" or 0 trust no proxy; "true" or "on" one; a number that many hops. */
const trustProxy = variable(`"off", "on" or a number of proxies from 0 to 10`, (text) => {
  const lower = text.toLowerCase();
  if (lower === "" || lower === "off" || lower === "false" || lower === "0") return 0;
  if (lower === "true" || lower === "on") return 1;
  const hops = Number(lower);
  return Number.isInteger(hops) && hops >= 0 && hops <= 10 ? hops : INVALID;
});

/** PG_LISTEN_PORT: a port enables the listener; unset, empty or "off" leaves it off. */
const listenPort = variable(`a port number (0-65535), or "off"`, (text) => {
  if (text === "" || text.toLowerCase() === "off") return undefined;
  const port = Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : INVALID;
});

/** STORE_THREAD: where the embedded store's engine runs (docs/decisions/0027-embedded-store-off-the-main-thread.md). */
const storeThread = variable(`"worker" or "main"`, (text) => {
  const lower = text.toLowerCase();
  if (lower === "") return "worker" as const;
  return lower === "worker" || lower === "main" ? lower : INVALID;
});

/** PG_LISTEN_ALLOW_PLAINTEXT: strictly "on" or "off" (it lowers a protection: no loose spellings). */
const strictOnOff = variable(`"on" or "off"`, (text) => {
  const lower = text.toLowerCase();
  if (lower === "" || lower === "off") return false;
  return lower === "on" ? true : INVALID;
});

/** PG_LISTEN_IDLE_TIMEOUT: seconds from 10 to a week, or "off"; unset is half an hour. */
export const DEFAULT_PG_IDLE_TIMEOUT_SECONDS = 1800;
const idleSeconds = variable(`seconds between 10 and 604800, or "off"`, (text) => {
  const lower = text.toLowerCase();
  if (lower === "off") return undefined;
  if (lower === "") return DEFAULT_PG_IDLE_TIMEOUT_SECONDS;
  const n = Number(lower);
  return Number.isInteger(n) && n >= 10 && n <= 7 * 86_400 ? n : INVALID;
});

/** Variables whose value never appears in a message (they are secrets, or may hold one). */
const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "MASTER_KEY",
  "AUTH_SECRET",
  "NEXTAUTH_SECRET",
  "ADMIN_PASSWORD",
  "OIDC_CLIENT_SECRET",
]);

/** The one schema's variables: every variable, its form and its default. README's configuration table lists the same. */
const variables = z.object({
  PORT: wholeNumber(3000, 0, 65535),
  HOST: optionalText,
  DATA_DIR: optionalText,
  DATABASE_URL: postgresUrl,
  STORE_THREAD: storeThread,
  PORTCULLIS_MIGRATIONS: optionalText,
  PUBLIC_URL: httpUrl,
  NEXTAUTH_URL: httpUrl,
  MASTER_KEY: key32,
  AUTH_SECRET: optionalText,
  NEXTAUTH_SECRET: optionalText,
  ADMIN_EMAIL: optionalText,
  ADMIN_PASSWORD: optionalText,
  OIDC_ISSUER: httpUrl,
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  OIDC_GROUPS_CLAIM: optionalText,
  OIDC_NAME: optionalText,
  SESSION_MAX_AGE: wholeNumber(8 * 3600, 1),
  TRUST_PROXY: trustProxy,
  DEMO_TARGET: onOff(true),
  DEMO_TARGET_PORT: wholeNumber(0, 0, 65535),
  DATA_PATH_DISPATCH: onOff(true),
  ROW_LIMIT: wholeNumber(10_000, 1),
  MAX_ROW_LIMIT: wholeNumber(1_000_000, 1),
  STATEMENT_TIMEOUT_MS: wholeNumber(60_000, 1),
  MAX_STATEMENT_BYTES: wholeNumber(256 * 1024, 1),
  RECORDED_RESULT_ROWS: wholeNumber(1000, 0),
  MASK_WORKERS: wholeNumber(undefined, 0, 16),
  REVIEW_TTL_MINUTES: positiveNumber(60, "minutes"),
  RATE_LIMIT_PER_MINUTE: positiveNumber(600, "requests"),
  OAUTH_ACCESS_TOKEN_TTL_SECONDS: wholeNumber(900, 1, 86_400),
  OAUTH_FAILED_ATTEMPTS_PER_MINUTE: positiveNumber(10, "attempts"),
  WEBHOOK_ATTEMPTS: wholeNumber(5, 1),
  WEBHOOK_RETRY_BASE_MS: wholeNumber(1000, 1),
  WEBHOOK_TIMEOUT_MS: wholeNumber(10_000, 1),
  WEBHOOK_POLL_MS: wholeNumber(5000, 1),
  AUDIT_CHECKPOINT_MINUTES: countOrOff(60, "minutes"),
  TERMINAL_IDLE_TIMEOUT: positiveNumber(30 * 60, "seconds"),
  TERMINAL_MAX_DURATION: positiveNumber(8 * 3600, "seconds"),
  RETENTION_DAYS: retentionDays,
  CLASSIFICATION_SAMPLE_ROWS: wholeNumber(200, 1),
  CLASSIFICATION_MAX_TABLES: wholeNumber(100, 1),
  CLASSIFICATION_STATEMENT_TIMEOUT_MS: wholeNumber(5000, 1),
  CLASSIFICATION_SCAN_INTERVAL_MINUTES: countOrOff(1440, "minutes"),
  PG_LISTEN_PORT: listenPort,
  PG_LISTEN_HOST: optionalText,
  PG_LISTEN_TLS_CERT: optionalText,
  PG_LISTEN_TLS_KEY: optionalText,
  PG_LISTEN_ALLOW_PLAINTEXT: strictOnOff,
  PG_LISTEN_IDLE_TIMEOUT: idleSeconds,
  SAML_METADATA_URL: httpUrl,
  SAML_METADATA_FILE: optionalText,
  SAML_ENTITY_ID: optionalText,
  SAML_GROUPS_ATTRIBUTE: optionalText,
  SAML_EMAIL_ATTRIBUTE: optionalText,
  SAML_NAME: optionalText,
  SAML_CLOCK_SKEW_SECONDS: wholeNumber(60, 0),
});

const environmentSchema = variables
  .superRefine((env, ctx) => {
    // Rules between variables; the message completes "NAME must be ...".
    if (env.ROW_LIMIT > env.MAX_ROW_LIMIT)
      ctx.addIssue({
        code: "custom",
        path: ["ROW_LIMIT"],
        message: `at most MAX_ROW_LIMIT (${env.MAX_ROW_LIMIT})`,
      });
    if ((env.PG_LISTEN_TLS_CERT === undefined) !== (env.PG_LISTEN_TLS_KEY === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["PG_LISTEN_TLS_CERT"],
        message:
          "set together with PG_LISTEN_TLS_KEY (PG_LISTEN_TLS_CERT and PG_LISTEN_TLS_KEY: both or neither)",
      });
    if (env.SAML_METADATA_URL !== undefined && env.SAML_METADATA_FILE !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["SAML_METADATA_URL"],
        message: "set without SAML_METADATA_FILE (SAML_METADATA_URL or SAML_METADATA_FILE, not both)",
      });
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET].filter((v) => v !== undefined);
    if (oidc.length > 0 && oidc.length < 3)
      ctx.addIssue({
        code: "custom",
        path: ["OIDC_ISSUER"],
        message: "set together with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (all three, or none)",
      });
  })
  .transform((env) => {
    const publicUrl = env.PUBLIC_URL ?? env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`;
    return {
      port: env.PORT,
      host: env.HOST ?? "0.0.0.0",
      dataDir: path.resolve(env.DATA_DIR ?? "./data"),
      databaseUrl: env.DATABASE_URL,
      /** the embedded store's engine: in a worker thread, or on the main thread */
      storeThread: env.STORE_THREAD,
      /** where db/store.ts finds the migrations; undefined: beside db/store.ts (the default layout) */
      migrationsFolder: env.PORTCULLIS_MIGRATIONS,
      publicUrl,
      /** MASTER_KEY when given; else getConfig() reads or generates DATA_DIR/master.key */
      masterKeyGiven: env.MASTER_KEY,
      authSecretGiven: env.AUTH_SECRET ?? env.NEXTAUTH_SECRET,
      adminEmail: env.ADMIN_EMAIL,
      adminPassword: env.ADMIN_PASSWORD,
      demoTarget: env.DEMO_TARGET,
      demoTargetPort: env.DEMO_TARGET_PORT,
      /** POST .../exec and .../check skip Next's router (docs/decisions/0004-sql-data-path.md) */
      dataPathDispatch: env.DATA_PATH_DISPATCH,
      sessionMaxAgeSeconds: env.SESSION_MAX_AGE,
      trustProxyHops: env.TRUST_PROXY,
      retentionDays: env.RETENTION_DAYS,
      sql: {
        maxInputBytes: env.MAX_STATEMENT_BYTES,
        defaultRowLimit: env.ROW_LIMIT,
        maxRowLimit: env.MAX_ROW_LIMIT,
        recordedRows: env.RECORDED_RESULT_ROWS,
        statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
      },
      /** worker threads that mask large results; undefined: one per core beyond two, at most 4 */
      maskWorkers: env.MASK_WORKERS,
      reviewTtlMs: env.REVIEW_TTL_MINUTES * 60_000,
      rateLimits: {
        requestsPerMinute: env.RATE_LIMIT_PER_MINUTE,
        failedClientAttemptsPerMinute: env.OAUTH_FAILED_ATTEMPTS_PER_MINUTE,
      },
      oauthAccessTokenTtlSeconds: env.OAUTH_ACCESS_TOKEN_TTL_SECONDS,
      webhooks: {
        attempts: env.WEBHOOK_ATTEMPTS,
        baseDelayMs: env.WEBHOOK_RETRY_BASE_MS,
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
        pollMs: env.WEBHOOK_POLL_MS,
      },
      /** minutes between audit checkpoints; undefined: never */
      auditCheckpointMinutes: env.AUDIT_CHECKPOINT_MINUTES,
      terminal: {
        idleTimeoutSeconds: env.TERMINAL_IDLE_TIMEOUT,
        maxDurationSeconds: env.TERMINAL_MAX_DURATION,
      },
      /** discovered sensitive columns: how much a scan samples, and how often it runs in the background */
      classification: {
        sampleRows: env.CLASSIFICATION_SAMPLE_ROWS,
        maxTables: env.CLASSIFICATION_MAX_TABLES,
        statementTimeoutMs: env.CLASSIFICATION_STATEMENT_TIMEOUT_MS,
        /** minutes between background scans of each connection; undefined: only "Scan now" */
        intervalMinutes: env.CLASSIFICATION_SCAN_INTERVAL_MINUTES,
      },
      oidc:
        env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET
          ? {
              issuer: env.OIDC_ISSUER,
              clientId: env.OIDC_CLIENT_ID,
              clientSecret: env.OIDC_CLIENT_SECRET,
              groupsClaim: env.OIDC_GROUPS_CLAIM ?? "groups",
              name: env.OIDC_NAME ?? "single sign-on",
            }
          : undefined,
      /** the PostgreSQL wire listener (server/listeners); undefined when PG_LISTEN_PORT is unset */
      pgListen:
        env.PG_LISTEN_PORT === undefined
          ? undefined
          : ({
              port: env.PG_LISTEN_PORT,
              host: env.PG_LISTEN_HOST ?? "0.0.0.0",
              tlsCertFile: env.PG_LISTEN_TLS_CERT,
              tlsKeyFile: env.PG_LISTEN_TLS_KEY,
              allowPlaintext: env.PG_LISTEN_ALLOW_PLAINTEXT,
              idleTimeoutSeconds: env.PG_LISTEN_IDLE_TIMEOUT,
            } satisfies PgListenConfig),
      /** SAML 2.0 sign-in (server/auth/saml); undefined when neither SAML_METADATA_URL nor SAML_METADATA_FILE is set */
      saml:
        env.SAML_METADATA_URL === undefined && env.SAML_METADATA_FILE === undefined
          ? undefined
          : ({
              metadataUrl: env.SAML_METADATA_URL,
              metadataFile: env.SAML_METADATA_FILE ? path.resolve(env.SAML_METADATA_FILE) : undefined,
              entityId: env.SAML_ENTITY_ID ?? `${publicUrl}/api/auth/saml/metadata`,
              groupsAttribute: env.SAML_GROUPS_ATTRIBUTE ?? "groups",
              emailAttribute: env.SAML_EMAIL_ATTRIBUTE,
              name: env.SAML_NAME ?? "SAML single sign-on",
              clockSkewSeconds: env.SAML_CLOCK_SKEW_SECONDS,
            } satisfies SamlConfig),
    };
  });

/** The names of every variable the console reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(variables.shape);

/** The parsed environment: every setting, no files touched. */
export type Settings = z.output<typeof environmentSchema>;

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

/**
 * Parses an environment, or throws one ConfigError listing every malformed variable: its name, the form it
 * accepts, and the value given (except for secrets).
 */
export function parseEnvironment(env: Record<string, string | undefined>): Settings {
  const result = environmentSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "configuration");
    const given = SECRET_VARIABLES.has(name) ? "" : ` (got ${JSON.stringify(env[name] ?? "")})`;
    return `${name} must be ${issue.message}${given}`;
  });
  return fail(problems);
}

function fail(problems: string[]): never {
  throw new ConfigError(
    problems.length === 1
      ? `${problems[0]}`
      : `the configuration has ${problems.length} problems:\n  ${problems.join("\n  ")}`,
  );
}

const SETTINGS = Symbol.for("portcullis.settings");
type SettingsHolder = { [SETTINGS]?: { fingerprint: string; settings: Settings } };

/**
 * The process's settings, parsed once. Parsed again only if a variable changed since (tests set some while
 * running; the console never does, except NEXTAUTH_URL from PUBLIC_URL at start).
 */
export function getSettings(): Settings {
  const holder = globalThis as SettingsHolder;
  const env = process.env;
  const fingerprint = CONFIG_VARIABLES.map((name) => env[name] ?? "\u0000").join("\u0001");
  const cached = holder[SETTINGS];
  if (cached?.fingerprint === fingerprint) return cached.settings;
  const settings = parseEnvironment(env);
  holder[SETTINGS] = { fingerprint, settings };
  return settings;
}

/** What start-up needs beyond the settings: the private DATA_DIR and the keys in it. */
export type GatewayConfig = Omit<Settings, "masterKeyGiven" | "authSecretGiven"> & {
  masterKey: Buffer;
  authSecret: string;
};

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

/** Reads a 32-byte key from a file in DATA_DIR, creating it on first start. */
function loadKeyFile(dataDir: string, file: string): Buffer {
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

/** The settings, checked before anything is written, then DATA_DIR made private and the keys read. */
export function getConfig(): GatewayConfig {
  const holder = globalThis as Holder;
  const cached = holder[CONFIG];
  if (cached) return cached;
  const { masterKeyGiven, authSecretGiven, ...settings } = getSettings();
  preparePrivateDataDir(settings.dataDir);
  const config: GatewayConfig = {
    ...settings,
    masterKey: masterKeyGiven ?? loadKeyFile(settings.dataDir, "master.key"),
    authSecret: authSecretGiven ?? loadKeyFile(settings.dataDir, "auth.key").toString("hex"),
  };
  holder[CONFIG] = config;
  return config;
}
