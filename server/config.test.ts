import { describe, expect, it } from "vitest";
import {
  parseCount,
  parsePgListen,
  parseRetentionDays,
  parseSaml,
  parseScanInterval,
  parseTrustProxy,
} from "./config";

describe("RETENTION_DAYS", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["off", undefined],
    ["0", undefined],
    ["90", 90],
    [" 7 ", 7],
    ["0.5", 0.5],
  ])("reads %j as %j", (value, expected) => {
    expect(parseRetentionDays(value)).toBe(expected);
  });

  it.each(["-1", "ninety", "1e400"])("refuses %j with a message naming the variable", (value) => {
    expect(() => parseRetentionDays(value)).toThrow(/RETENTION_DAYS/);
  });
});

describe("classification settings", () => {
  it.each([
    [undefined, 1440],
    ["", 1440],
    ["60", 60],
    ["off", undefined],
    ["0", undefined],
  ])("reads CLASSIFICATION_SCAN_INTERVAL_MINUTES=%s as %s", (value, expected) => {
    expect(parseScanInterval(value)).toBe(expected);
  });

  it.each(["-5", "1.5", "soon"])("refuses %s with a message naming the variable", (value) => {
    expect(() => parseScanInterval(value)).toThrow(/CLASSIFICATION_SCAN_INTERVAL_MINUTES/);
    expect(() => parseCount("CLASSIFICATION_SAMPLE_ROWS", value, 200)).toThrow(/CLASSIFICATION_SAMPLE_ROWS/);
  });
});

describe("TRUST_PROXY", () => {
  it.each([
    [undefined, 0],
    ["", 0],
    ["off", 0],
    ["false", 0],
    ["0", 0],
    ["on", 1],
    ["true", 1],
    ["2", 2],
  ])("reads %j as %j proxies", (value, expected) => {
    expect(parseTrustProxy(value)).toBe(expected);
  });

  it.each(["-1", "yes please", "1.5", "11"])("refuses %j with a message naming the variable", (value) => {
    expect(() => parseTrustProxy(value)).toThrow(/TRUST_PROXY/);
  });
});

describe("PG_LISTEN_*", () => {
  it("is off unless PG_LISTEN_PORT is set", () => {
    expect(parsePgListen({})).toBeUndefined();
    expect(parsePgListen({ PG_LISTEN_PORT: "" })).toBeUndefined();
    expect(parsePgListen({ PG_LISTEN_PORT: "off" })).toBeUndefined();
  });

  it("reads the port, host, certificate files and plain-text switch", () => {
    expect(parsePgListen({ PG_LISTEN_PORT: "6432" })).toEqual({
      port: 6432,
      host: "0.0.0.0",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: 1800,
    });
    expect(
      parsePgListen({
        PG_LISTEN_PORT: "6432",
        PG_LISTEN_HOST: "127.0.0.1",
        PG_LISTEN_TLS_CERT: "/etc/c.pem",
        PG_LISTEN_TLS_KEY: "/etc/k.pem",
        PG_LISTEN_ALLOW_PLAINTEXT: "on",
        PG_LISTEN_IDLE_TIMEOUT: "600",
      }),
    ).toEqual({
      port: 6432,
      host: "127.0.0.1",
      tlsCertFile: "/etc/c.pem",
      tlsKeyFile: "/etc/k.pem",
      allowPlaintext: true,
      idleTimeoutSeconds: 600,
    });
    expect(parsePgListen({ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: "off" })?.idleTimeoutSeconds).toBe(
      undefined,
    );
  });

  it.each([
    [{ PG_LISTEN_PORT: "postgres" }, /PG_LISTEN_PORT/],
    [{ PG_LISTEN_PORT: "70000" }, /PG_LISTEN_PORT/],
    [
      { PG_LISTEN_PORT: "6432", PG_LISTEN_TLS_CERT: "/etc/c.pem" },
      /PG_LISTEN_TLS_CERT and PG_LISTEN_TLS_KEY/,
    ],
    [{ PG_LISTEN_PORT: "6432", PG_LISTEN_ALLOW_PLAINTEXT: "yes" }, /PG_LISTEN_ALLOW_PLAINTEXT/],
    [{ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: "5" }, /PG_LISTEN_IDLE_TIMEOUT/],
    [{ PG_LISTEN_PORT: "6432", PG_LISTEN_IDLE_TIMEOUT: "1h" }, /PG_LISTEN_IDLE_TIMEOUT/],
  ])("refuses %j with a message naming the variable", (env, message) => {
    expect(() => parsePgListen(env)).toThrow(message);
  });
});

describe("SAML_*", () => {
  const console = "https://console.example.com";

  it("is off unless SAML_METADATA_URL or SAML_METADATA_FILE is set", () => {
    expect(parseSaml({}, console)).toBeUndefined();
    expect(parseSaml({ SAML_METADATA_URL: " " }, console)).toBeUndefined();
  });

  it("defaults the entity ID to the console's metadata address and the groups attribute to groups", () => {
    expect(parseSaml({ SAML_METADATA_URL: "https://idp.example.com/md" }, console)).toEqual({
      metadataUrl: "https://idp.example.com/md",
      metadataFile: undefined,
      entityId: `${console}/api/auth/saml/metadata`,
      groupsAttribute: "groups",
      emailAttribute: undefined,
      name: "SAML single sign-on",
      clockSkewSeconds: 60,
    });
    expect(
      parseSaml(
        {
          SAML_METADATA_FILE: "/etc/portcullis/idp.xml",
          SAML_ENTITY_ID: "urn:portcullis",
          SAML_GROUPS_ATTRIBUTE: "memberOf",
          SAML_EMAIL_ATTRIBUTE: "mail",
          SAML_NAME: "Okta",
          SAML_CLOCK_SKEW_SECONDS: "0",
        },
        console,
      ),
    ).toMatchObject({
      metadataFile: "/etc/portcullis/idp.xml",
      entityId: "urn:portcullis",
      groupsAttribute: "memberOf",
      emailAttribute: "mail",
      name: "Okta",
      clockSkewSeconds: 0,
    });
  });

  it.each([
    [{ SAML_METADATA_URL: "https://a/md", SAML_METADATA_FILE: "/md.xml" }, /not both/],
    [{ SAML_METADATA_URL: "file:///etc/passwd" }, /SAML_METADATA_URL must be an http\(s\) URL/],
    [{ SAML_METADATA_URL: "not a url" }, /SAML_METADATA_URL must be an http\(s\) URL/],
    [{ SAML_METADATA_URL: "https://a/md", SAML_CLOCK_SKEW_SECONDS: "-1" }, /SAML_CLOCK_SKEW_SECONDS/],
  ])("refuses to start with %o, naming the variable", (env, message) => {
    expect(() => parseSaml(env, console)).toThrow(message);
  });
});
