import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isLoopback, mayUsePlaintext } from "./pg-listener";
import { fingerprintOf, generateSelfSigned } from "./tls-certificate";

describe("plain-text connections", () => {
  it.each([
    ["127.0.0.1", false, true],
    ["127.8.9.10", false, true],
    ["::1", false, true],
    ["::ffff:127.0.0.1", false, true],
    ["192.0.2.2", false, false],
    ["::ffff:192.0.2.2", false, false],
    ["fd00::2", false, false],
    ["10.0.0.127", false, false],
    ["", false, false],
    ["192.0.2.2", true, true],
  ])("from %j (PG_LISTEN_ALLOW_PLAINTEXT %s): accepted %s", (address, allowed, accepted) => {
    expect(mayUsePlaintext(address, allowed)).toBe(accepted);
    if (!allowed) expect(isLoopback(address)).toBe(accepted);
  });
});

describe("the generated certificate", () => {
  it("is a valid self-signed CA for localhost and the loopback addresses, with a matching fingerprint", () => {
    const now = new Date();
    const { cert, key } = generateSelfSigned(now);
    const x509 = new X509Certificate(cert);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.ca).toBe(true);
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.checkIP("::1")).toBeDefined();
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(fingerprintOf(cert)).toBe(x509.fingerprint256);
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(now.getTime() + 9 * 365 * 86_400_000);
  });

  it("is a new key each time", () => {
    expect(fingerprintOf(generateSelfSigned().cert)).not.toBe(fingerprintOf(generateSelfSigned().cert));
  });
});
