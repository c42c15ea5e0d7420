import { describe, expect, it } from "vitest";
import { parseCount, parseRetentionDays, parseScanInterval, parseTrustProxy } from "./config";

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
