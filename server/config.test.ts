// The one configuration schema: each variable's defaults and accepted values, and for each malformed value a
// start-up error that names the variable and the form it accepts (and never echoes a secret).
import { afterEach, describe, expect, it, vi } from "vitest";
import { CONFIG_VARIABLES, ConfigError, getSettings, parseEnvironment, type Settings } from "./config";

describe("defaults", () => {
  it("reads an empty environment as the documented defaults", () => {
    const s = parseEnvironment({});
    expect(s).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      publicUrl: "http://localhost:3000",
      databaseUrl: undefined,
      storeThread: "worker",
      demoTarget: true,
      demoTargetPort: 0,
      dataPathDispatch: true,
      sessionMaxAgeSeconds: 28_800,
      trustProxyHops: 0,
      retentionDays: undefined,
      sql: {
        maxInputBytes: 262_144,
        defaultRowLimit: 10_000,
        maxRowLimit: 1_000_000,
        recordedRows: 1000,
        statementTimeoutMs: 60_000,
      },
      maskWorkers: undefined,
      reviewTtlMs: 3_600_000,
      rateLimits: { requestsPerMinute: 600, failedClientAttemptsPerMinute: 10 },
      oauthAccessTokenTtlSeconds: 900,
      webhooks: { attempts: 5, baseDelayMs: 1000, timeoutMs: 10_000, pollMs: 5000 },
      auditCheckpointMinutes: 60,
      terminal: { idleTimeoutSeconds: 1800, maxDurationSeconds: 28_800 },
      classification: { sampleRows: 200, maxTables: 100, statementTimeoutMs: 5000, intervalMinutes: 1440 },
      oidc: undefined,
      pgListen: undefined,
    });
  });

  it("treats an empty value as unset", () => {
    const blank = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, ""]));
    expect(parseEnvironment(blank)).toEqual(parseEnvironment({}));
  });
});

type Pick_ = (s: Settings) => unknown;

describe("accepted values", () => {
  it.each<[Record<string, string>, Pick_, unknown]>([
    [{ ROW_LIMIT: "500" }, (s) => s.sql.defaultRowLimit, 500],
    [{ ROW_LIMIT: " 7 " }, (s) => s.sql.defaultRowLimit, 7],
    [{ RECORDED_RESULT_ROWS: "0" }, (s) => s.sql.recordedRows, 0],
    [{ MASK_WORKERS: "0" }, (s) => s.maskWorkers, 0],
    [{ MASK_WORKERS: "3" }, (s) => s.maskWorkers, 3],
    [{ STORE_THREAD: "worker" }, (s) => s.storeThread, "worker"],
    [{ STORE_THREAD: " Main " }, (s) => s.storeThread, "main"],
    [{ REVIEW_TTL_MINUTES: "0.5" }, (s) => s.reviewTtlMs, 30_000],
    [{ TERMINAL_IDLE_TIMEOUT: "1" }, (s) => s.terminal.idleTimeoutSeconds, 1],
    [{ AUDIT_CHECKPOINT_MINUTES: "0" }, (s) => s.auditCheckpointMinutes, undefined],
    [{ AUDIT_CHECKPOINT_MINUTES: "off" }, (s) => s.auditCheckpointMinutes, undefined],
    [{ DEMO_TARGET: "off" }, (s) => s.demoTarget, false],
    [{ DEMO_TARGET: "ON" }, (s) => s.demoTarget, true],
    [{ DATA_PATH_DISPATCH: "off" }, (s) => s.dataPathDispatch, false],
    [{ PORT: "8080" }, (s) => s.publicUrl, "http://localhost:8080"],
    [{ PUBLIC_URL: "https://gw.example.com/" }, (s) => s.publicUrl, "https://gw.example.com"],
    [{ NEXTAUTH_URL: "https://old.example.com" }, (s) => s.publicUrl, "https://old.example.com"],
    [{ DATABASE_URL: "postgres://u:p@db/store" }, (s) => s.databaseUrl, "postgres://u:p@db/store"],
    [{ MASTER_KEY: "ab".repeat(32) }, (s) => s.masterKeyGiven?.length, 32],
    [{ MASTER_KEY: Buffer.alloc(32, 7).toString("base64") }, (s) => s.masterKeyGiven?.[0], 7],
    [{ RETENTION_DAYS: "off" }, (s) => s.retentionDays, undefined],
    [{ RETENTION_DAYS: "0" }, (s) => s.retentionDays, undefined],
    [{ RETENTION_DAYS: "90" }, (s) => s.retentionDays, 90],
    [{ RETENTION_DAYS: " 7 " }, (s) => s.retentionDays, 7],
    [{ RETENTION_DAYS: "0.5" }, (s) => s.retentionDays, 0.5],
    [{ CLASSIFICATION_SCAN_INTERVAL_MINUTES: "60" }, (s) => s.classification.intervalMinutes, 60],
    [{ CLASSIFICATION_SCAN_INTERVAL_MINUTES: "off" }, (s) => s.classification.intervalMinutes, undefined],
    [{ CLASSIFICATION_SCAN_INTERVAL_MINUTES: "0" }, (s) => s.classification.intervalMinutes, undefined],
    [{ TRUST_PROXY: "off" }, (s) => s.trustProxyHops, 0],
    [{ TRUST_PROXY: "false" }, (s) => s.trustProxyHops, 0],
    [{ TRUST_PROXY: "0" }, (s) => s.trustProxyHops, 0],
    [{ TRUST_PROXY: "on" }, (s) => s.trustProxyHops, 1],
    [{ TRUST_PROXY: "true" }, (s) => s.trustProxyHops, 1],
    [{ TRUST_PROXY: "2" }, (s) => s.trustProxyHops, 2],
    [{ PG_LISTEN_PORT: "off" }, (s) => s.pgListen, undefined],
    [
      { OIDC_ISSUER: "https://idp.example.com/", OIDC_CLIENT_ID: "gw", OIDC_CLIENT_SECRET: "s" },
      (s) => s.oidc,
      {
        issuer: "https://idp.example.com",
        clientId: "gw",
        clientSecret: "s",
        groupsClaim: "groups",
        name: "single sign-on",
      },
    ],
  ])("reads %j", (env, pick, expected) => {
    expect(pick(parseEnvironment(env))).toEqual(expected);
  });

  it("reads the listener's port, host, certificate files and plain-text switch", () => {
    expect(parseEnvironment({ PG_LISTEN_PORT: "6432" }).pgListen).toEqual({
      port: 6432,
      host: "0.0.0.0",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: 1800,
    });
    expect(
      parseEnvironment({
        PG_LISTEN_PORT: "6432",
        PG_LISTEN_HOST: "127.0.0.1",
        PG_LISTEN_TLS_CERT: "/etc/c.pem",
        PG_LISTEN_TLS_KEY: "/etc/k.pem",
        PG_LISTEN_ALLOW_PLAINTEXT: "on",
      }).pgListen,
    ).toEqual({
      port: 6432,
      host: "127.0.0.1",
      tlsCertFile: "/etc/c.pem",
      tlsKeyFile: "/etc/k.pem",
      allowPlaintext: true,
      idleTimeoutSeconds: 1800,
    });
  });
});

function messageOf(env: Record<string, string>): string {
  try {
    parseEnvironment(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe("malformed values stop start-up, naming the variable and the accepted form", () => {
  it.each<[string, string, string]>([
    ["ROW_LIMIT", "10k", "a whole number of at least 1"],
    ["ROW_LIMIT", "0", "a whole number of at least 1"],
    ["ROW_LIMIT", "1.5", "a whole number of at least 1"],
    ["MAX_ROW_LIMIT", "lots", "a whole number of at least 1"],
    ["MAX_STATEMENT_BYTES", "256KB", "a whole number of at least 1"],
    ["RECORDED_RESULT_ROWS", "-1", "a whole number of at least 0"],
    ["STATEMENT_TIMEOUT_MS", "1m", "a whole number of at least 1"],
    ["PORT", "http", "a whole number from 0 to 65535"],
    ["PORT", "70000", "a whole number from 0 to 65535"],
    ["DEMO_TARGET_PORT", "-1", "a whole number from 0 to 65535"],
    ["SESSION_MAX_AGE", "8h", "a whole number of at least 1"],
    ["MASK_WORKERS", "many", "a whole number from 0 to 16"],
    ["MASK_WORKERS", "64", "a whole number from 0 to 16"],
    ["STORE_THREAD", "thread", '"worker" or "main"'],
    ["STORE_THREAD", "process", '"worker" or "main"'],
    ["REVIEW_TTL_MINUTES", "0", "a number of minutes above 0"],
    ["REVIEW_TTL_MINUTES", "an hour", "a number of minutes above 0"],
    ["RATE_LIMIT_PER_MINUTE", "NaN", "a number of requests above 0"],
    ["OAUTH_ACCESS_TOKEN_TTL_SECONDS", "90000", "a whole number from 1 to 86400"],
    ["OAUTH_FAILED_ATTEMPTS_PER_MINUTE", "-3", "a number of attempts above 0"],
    ["WEBHOOK_ATTEMPTS", "five", "a whole number of at least 1"],
    ["WEBHOOK_RETRY_BASE_MS", "1s", "a whole number of at least 1"],
    ["WEBHOOK_TIMEOUT_MS", "Infinity", "a whole number of at least 1"],
    ["WEBHOOK_POLL_MS", "0x", "a whole number of at least 1"],
    ["AUDIT_CHECKPOINT_MINUTES", "hourly", 'a whole number of minutes (at least 1), or "off" or 0'],
    ["TERMINAL_IDLE_TIMEOUT", "30m", "a number of seconds above 0"],
    ["TERMINAL_MAX_DURATION", "-1", "a number of seconds above 0"],
    ["DEMO_TARGET", "no thanks", '"on" or "off"'],
    ["DATA_PATH_DISPATCH", "disabled", '"on" or "off"'],
    ["PUBLIC_URL", "gw.example.com", "an absolute http:// or https:// URL"],
    ["PUBLIC_URL", "ftp://gw.example.com", "an absolute http:// or https:// URL"],
    ["RETENTION_DAYS", "-1", 'a positive number of days, or "off"'],
    ["RETENTION_DAYS", "ninety", 'a positive number of days, or "off"'],
    ["RETENTION_DAYS", "1e400", 'a positive number of days, or "off"'],
    ["CLASSIFICATION_SAMPLE_ROWS", "-5", "a whole number of at least 1"],
    ["CLASSIFICATION_MAX_TABLES", "all", "a whole number of at least 1"],
    ["CLASSIFICATION_STATEMENT_TIMEOUT_MS", "5s", "a whole number of at least 1"],
    ["CLASSIFICATION_SCAN_INTERVAL_MINUTES", "-5", 'a whole number of minutes (at least 1), or "off" or 0'],
    ["CLASSIFICATION_SCAN_INTERVAL_MINUTES", "1.5", 'a whole number of minutes (at least 1), or "off" or 0'],
    ["CLASSIFICATION_SCAN_INTERVAL_MINUTES", "soon", 'a whole number of minutes (at least 1), or "off" or 0'],
    ["TRUST_PROXY", "-1", '"off", "on" or a number of proxies from 0 to 10'],
    ["TRUST_PROXY", "yes please", '"off", "on" or a number of proxies from 0 to 10'],
    ["TRUST_PROXY", "1.5", '"off", "on" or a number of proxies from 0 to 10'],
    ["TRUST_PROXY", "11", '"off", "on" or a number of proxies from 0 to 10'],
    ["PG_LISTEN_PORT", "postgres", 'a port number (0-65535), or "off"'],
    ["PG_LISTEN_PORT", "70000", 'a port number (0-65535), or "off"'],
    ["PG_LISTEN_ALLOW_PLAINTEXT", "yes", '"on" or "off"'],
  ])("refuses %s=%j", (name, value, form) => {
    expect(messageOf({ [name]: value })).toBe(`${name} must be ${form} (got ${JSON.stringify(value)})`);
  });

  it.each<[Record<string, string>, string]>([
    [{ ROW_LIMIT: "5000", MAX_ROW_LIMIT: "1000" }, "ROW_LIMIT must be at most MAX_ROW_LIMIT (1000)"],
    [
      { PG_LISTEN_PORT: "6432", PG_LISTEN_TLS_CERT: "/etc/c.pem" },
      "PG_LISTEN_TLS_CERT and PG_LISTEN_TLS_KEY: both or neither",
    ],
    [
      { OIDC_ISSUER: "https://idp.example.com", OIDC_CLIENT_ID: "gw" },
      "OIDC_ISSUER must be set together with OIDC_CLIENT_ID and OIDC_CLIENT_SECRET",
    ],
  ])("refuses the combination %j", (env, message) => {
    expect(messageOf(env)).toContain(message);
  });

  it("lists every malformed variable at once", () => {
    const message = messageOf({ ROW_LIMIT: "10k", WEBHOOK_ATTEMPTS: "five", PORT: "http" });
    expect(message).toMatch(/3 problems/);
    for (const name of ["ROW_LIMIT", "WEBHOOK_ATTEMPTS", "PORT"])
      expect(message).toContain(`${name} must be`);
  });
});

describe("secrets in malformed values", () => {
  // A key, a password or a connection URL with a password must not reach the log through the start-up error.
  it.each<[string, string]>([
    ["MASTER_KEY", "s3cret-not-a-key-0123456789"],
    ["MASTER_KEY", "c2VjcmV0LXNob3J0"],
    ["DATABASE_URL", "mysql://store:s3cretpassword@db/store"],
    ["DATABASE_URL", "s3cretpassword"],
  ])("names %s without echoing its value", (name, value) => {
    const message = messageOf({ [name]: value });
    expect(message).toMatch(new RegExp(`^${name} must be `));
    expect(message).not.toContain("s3cret");
    expect(message).not.toContain(value);
  });
});

describe("the variables", () => {
  it("are all in the README's configuration table", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Concepts"));
    const missing = CONFIG_VARIABLES.filter((name) => !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

describe("the process's settings", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("are parsed once, and again when a variable changed (a malformed change throws at the next read)", () => {
    vi.stubEnv("ROW_LIMIT", "500");
    const first = getSettings();
    expect(first.sql.defaultRowLimit).toBe(500);
    expect(getSettings()).toBe(first);
    vi.stubEnv("ROW_LIMIT", "600");
    expect(getSettings().sql.defaultRowLimit).toBe(600);
    vi.stubEnv("ROW_LIMIT", "10k");
    expect(() => getSettings()).toThrow('ROW_LIMIT must be a whole number of at least 1 (got "10k")');
  });
});

describe("PG_LISTEN_IDLE_TIMEOUT", () => {
  it("closes idle native clients after half an hour unless told otherwise", () => {
    expect(parseEnvironment({ PG_LISTEN_PORT: "6432" }).pgListen?.idleTimeoutSeconds).toBe(1800);
    expect(
      parseEnvironment({ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: "600" }).pgListen
        ?.idleTimeoutSeconds,
    ).toBe(600);
    expect(
      parseEnvironment({ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: "off" }).pgListen
        ?.idleTimeoutSeconds,
    ).toBeUndefined();
  });

  it.each(["5", "1h", "604801"])("refuses %s, naming the variable and its form", (value) => {
    expect(() => parseEnvironment({ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: value })).toThrow(
      /PG_LISTEN_IDLE_TIMEOUT must be seconds between 10 and 604800, or "off"/,
    );
  });
});

describe("SAML_*", () => {
  const console = "https://console.example.com";

  it("is off unless SAML_METADATA_URL or SAML_METADATA_FILE is set", () => {
    expect(parseEnvironment({}).saml).toBeUndefined();
    expect(parseEnvironment({ SAML_METADATA_URL: " " }).saml).toBeUndefined();
  });

  it("defaults the entity ID to the console's metadata address and the groups attribute to groups", () => {
    expect(
      parseEnvironment({ PUBLIC_URL: console, SAML_METADATA_URL: "https://idp.example.com/md" }).saml,
    ).toEqual({
      metadataUrl: "https://idp.example.com/md",
      metadataFile: undefined,
      entityId: `${console}/api/auth/saml/metadata`,
      groupsAttribute: "groups",
      emailAttribute: undefined,
      name: "SAML single sign-on",
      clockSkewSeconds: 60,
    });
    expect(
      parseEnvironment({
        SAML_METADATA_FILE: "/etc/portcullis/idp.xml",
        SAML_ENTITY_ID: "urn:portcullis",
        SAML_GROUPS_ATTRIBUTE: "memberOf",
        SAML_EMAIL_ATTRIBUTE: "mail",
        SAML_NAME: "Okta",
        SAML_CLOCK_SKEW_SECONDS: "0",
      }).saml,
    ).toEqual({
      metadataUrl: undefined,
      metadataFile: "/etc/portcullis/idp.xml",
      entityId: "urn:portcullis",
      groupsAttribute: "memberOf",
      emailAttribute: "mail",
      name: "Okta",
      clockSkewSeconds: 0,
    });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ SAML_METADATA_URL: "https://a/md", SAML_METADATA_FILE: "/md.xml" }, /not both/],
    [{ SAML_METADATA_URL: "file:///etc/passwd" }, /SAML_METADATA_URL must be an absolute http/],
    [{ SAML_METADATA_URL: "not a url" }, /SAML_METADATA_URL must be an absolute http/],
    [{ SAML_METADATA_URL: "https://a/md", SAML_CLOCK_SKEW_SECONDS: "-1" }, /SAML_CLOCK_SKEW_SECONDS/],
  ])("refuses %j", (env, message) => {
    expect(() => parseEnvironment(env)).toThrow(message);
  });
});
