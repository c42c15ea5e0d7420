/**
 * Per-token token bucket for bearer-token callers (programs and agents), kept in process memory. Console
 * sessions are not limited here. A restart or a second gateway process starts with full buckets.
 */
import "server-only";
import { processSingleton } from "@/server/singleton";

export interface RateLimitDecision {
  allowed: boolean;
  /** whole seconds until one request is allowed again (0 when allowed) */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A bucket of `perMinute` requests that refills continuously; `now` is injectable for tests. */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, Bucket>();
  const refillPerMs = perMinute / 60_000;

  return {
    take(key: string): RateLimitDecision {
      const at = now();
      const bucket = buckets.get(key) ?? { tokens: perMinute, updatedAt: at };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.updatedAt) * refillPerMs);
      bucket.updatedAt = at;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)),
      };
    },
  };
}

function limitPerMinute(): number {
  const value = Number(process.env.RATE_LIMIT_PER_MINUTE ?? 600);
  return Number.isFinite(value) && value > 0 ? value : 600;
}

/** One per process: the data-path dispatch (server.ts) and Next's bundle load this module separately. */
const shared = processSingleton("tokenRateLimiter", () => ({
  limiter: undefined as ReturnType<typeof createRateLimiter> | undefined,
}));

/** The gateway-wide limiter, keyed by API token id. */
export function takeTokenRequest(tokenId: string): RateLimitDecision {
  shared.limiter ??= createRateLimiter(limitPerMinute());
  return shared.limiter.take(tokenId);
}
