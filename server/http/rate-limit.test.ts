import { describe, expect, it, vi } from "vitest";
import { createRateLimiter } from "./rate-limit";

describe("token bucket", () => {
  it("allows a burst of the per-minute limit, then refuses with a Retry-After", () => {
    const now = 0;
    const limiter = createRateLimiter(3, () => now);
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    const refused = limiter.take("a");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(20);
  });

  it("refills over time at the per-minute rate", () => {
    let now = 0;
    const limiter = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) limiter.take("a");
    expect(limiter.take("a").allowed).toBe(false);
    now += 1000;
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  it("keeps a separate bucket per token", () => {
    const limiter = createRateLimiter(1, () => 0);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });
});

describe("withAuth rate limit", () => {
  it("answers 429 rate_limited with Retry-After once a token's bucket is empty", async () => {
    vi.resetModules();
    vi.stubEnv("RATE_LIMIT_PER_MINUTE", "2");
    vi.doMock("@/server/auth/authenticate", () => ({
      principalFromRequest: async () => ({
        id: "svc",
        email: "",
        name: "bot",
        role: "member",
        kind: "service",
        groups: [],
        via: "token",
        tokenId: "token-1",
      }),
    }));
    const { withAuth } = await import("./route");
    const handler = withAuth({ permission: "connections:use" }, async () => ({ ok: true }));
    const call = () => handler(new Request("http://gateway/api/v1/connections"));
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("30");
    expect(await refused.json()).toMatchObject({ error: { code: "rate_limited" } });
    vi.doUnmock("@/server/auth/authenticate");
    vi.unstubAllEnvs();
  });
});

describe("peek", () => {
  it("says whether a request would pass without taking from the bucket", () => {
    const limiter = createRateLimiter(2, () => 0);
    expect(limiter.peek("a").allowed).toBe(true);
    limiter.take("a");
    limiter.take("a");
    expect(limiter.peek("a")).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(limiter.peek("b").allowed).toBe(true);
  });
});
