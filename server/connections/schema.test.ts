import { describe, expect, it } from "vitest";
import { terminalLimitsSchema, trustHostKeySchema, updateConnectionSchema } from "./schema";

describe("connection schemas", () => {
  it.each([
    [{ idleTimeoutSeconds: 600, maxDurationSeconds: 3600 }, true],
    [{ idleTimeoutSeconds: null, maxDurationSeconds: null }, true],
    [{}, true],
    [{ idleTimeoutSeconds: 5 }, false],
    [{ idleTimeoutSeconds: 1.5 }, false],
    [{ maxDurationSeconds: 8 * 24 * 3600 }, false],
    [{ idleTimeoutSeconds: "600" }, false],
    [{ idleTimeoutSeconds: 7200, maxDurationSeconds: 3600 }, false],
  ])("terminal limits %j valid: %s", (limits, isValid) => {
    expect(terminalLimitsSchema.safeParse(limits).success).toBe(isValid);
  });

  it("explains a terminal limit that is out of range", () => {
    const result = updateConnectionSchema.safeParse({ terminal: { idleTimeoutSeconds: 1 } });
    expect(result.error?.issues[0]?.message).toBe("the idle timeout is at least 10 seconds");
  });

  it("accepts only OpenSSH SHA256 fingerprints to trust", () => {
    expect(trustHostKeySchema.safeParse({ fingerprint: `SHA256:${"A".repeat(43)}` }).success).toBe(true);
    expect(trustHostKeySchema.safeParse({ fingerprint: "MD5:aa:bb" }).success).toBe(false);
  });
});
