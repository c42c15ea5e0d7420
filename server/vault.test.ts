import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecret, sealSecret } from "@/server/vault";

describe("credential vault", () => {
  const key = randomBytes(32);

  it("opens what it sealed, and the envelope does not contain the secret", () => {
    const sealed = sealSecret({ password: "hunter2-very-secret" }, key, "conn-1");
    expect(sealed).not.toContain("hunter2");
    expect(Buffer.from(sealed.split(".")[3] ?? "", "base64url").toString("utf8")).not.toContain("hunter2");
    expect(openSecret(sealed, key, "conn-1")).toEqual({ password: "hunter2-very-secret" });
  });

  it("uses a fresh nonce each time", () => {
    expect(sealSecret({ password: "x" }, key, "c")).not.toBe(sealSecret({ password: "x" }, key, "c"));
  });

  it("refuses another key", () => {
    const sealed = sealSecret({ password: "p" }, key, "conn-1");
    expect(() => openSecret(sealed, randomBytes(32), "conn-1")).toThrow();
  });

  it("refuses an envelope moved to another connection", () => {
    const sealed = sealSecret({ password: "p" }, key, "conn-1");
    expect(() => openSecret(sealed, key, "conn-2")).toThrow();
  });

  it("refuses a tampered ciphertext", () => {
    const [v, iv, tag, body] = sealSecret({ privateKey: "k" }, key, "c").split(".");
    const flipped = Buffer.from(body ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => openSecret([v, iv, tag, flipped.toString("base64url")].join("."), key, "c")).toThrow();
  });
});
