/**
 * Per-token token bucket for bearer-token callers (programs and agents), kept in process memory. Console
 * sessions are not limited here. A restart or a second gateway process starts with full buckets.
 */
import "server-only";
import { getSettings } from "@/server/config";
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

  function refilled(key: string, at: number): Bucket {
    const bucket = buckets.get(key) ?? { tokens: perMinute, updatedAt: at };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = at;
    return bucket;
  }

  function decide(bucket: Bucket): RateLimitDecision {
    if (bucket.tokens >= 1) return { allowed: true, retryAfterSeconds: 0 };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)),
    };
  }

  /** Full buckets carry no information: drop them so that many distinct keys cannot grow the map forever. */
  function sweep(at: number) {
    if (buckets.size < MAX_BUCKETS) return;
    for (const [key, bucket] of buckets) {
      if (bucket.tokens + (at - bucket.updatedAt) * refillPerMs >= perMinute) buckets.delete(key);
    }
  }

  return {
    take(key: string): RateLimitDecision {
      const at = now();
      sweep(at);
      const bucket = refilled(key, at);
      buckets.set(key, bucket);
      const decision = decide(bucket);
      if (decision.allowed) bucket.tokens -= 1;
      return decision;
    },
    /** Would a request be allowed now? Takes nothing (for limits that only count failures). */
    peek(key: string): RateLimitDecision {
      const bucket = buckets.get(key);
      return bucket ? decide(refilled(key, now())) : { allowed: true, retryAfterSeconds: 0 };
    },
  };
}

const MAX_BUCKETS = 10_000;

/** One per process: the data-path dispatch (server.ts) and Next's bundle load this module separately. */
const shared = processSingleton("tokenRateLimiters", () => ({
  requests: undefined as ReturnType<typeof createRateLimiter> | undefined,
  failures: undefined as ReturnType<typeof createRateLimiter> | undefined,
}));

/** The gateway-wide limiter, keyed by credential (see rateLimitKey). */
export function takeTokenRequest(key: string): RateLimitDecision {
  shared.requests ??= createRateLimiter(getSettings().rateLimits.requestsPerMinute);
  return shared.requests.take(key);
}

/** Failed client authentications at the token endpoint, per client id (OAUTH_FAILED_ATTEMPTS_PER_MINUTE). */
export function failedClientAttempts() {
  shared.failures ??= createRateLimiter(getSettings().rateLimits.failedClientAttemptsPerMinute);
  return shared.failures;
}
