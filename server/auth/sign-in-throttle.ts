/**
 * Throttling of password sign-ins, per account and per client address, in the store (so every replica sees
 * the same counts). Every attempt is counted before the password is checked (so a burst of parallel guesses
 * cannot slip through before the first failure is written), and a success takes its own count back. Past a
 * few free failures, each admitted attempt makes the next one wait twice as long, up to a short cap: a
 * stranger can slow the admin's sign-in down, never lock it for good. Attempts refused while waiting are not
 * counted (they cannot lengthen the wait); a quiet quarter of an hour forgets the count.
 * Not responsible for checking passwords (users.ts) or for the sign-in reply (next-auth.ts).
 */
import "server-only";
import { eq, sql } from "drizzle-orm";
import { rowsOf } from "@/db/rows";
import { signInFailures } from "@/db/schema";
import { getDb } from "@/db/store";

interface ThrottleRule {
  /** failures within the window that cost nothing */
  free: number;
  /** the longest wait between two attempts, in seconds */
  capSeconds: number;
}

export const SIGN_IN_THROTTLE: Record<"account" | "address", ThrottleRule> = {
  // Short: anyone who knows the admin's email can keep this one going.
  account: { free: 5, capSeconds: 60 },
  // Longer: only the guesser's own address (or everyone behind the same NAT) waits.
  address: { free: 20, capSeconds: 900 },
};
const FORGET_AFTER_SECONDS = 900;
/** Rows of keys nobody has failed with for a day are deleted now and then (every SWEEP_EVERY attempts). */
const SWEEP_EVERY = 200;
let attemptsSinceSweep = 0;

export type SignInAttempt =
  | { allowed: true /** the waits this attempt starts, if it fails */; waits: ThrottleWait[] }
  | { allowed: false; retryAfterSeconds: number; by: "account" | "address" };

export interface ThrottleWait {
  by: "account" | "address";
  failures: number;
  seconds: number;
}

/** Counts one attempt against `key`; refuses it while an earlier one's wait runs. One statement: atomic. */
async function takeAttempt(key: string, rule: ThrottleRule) {
  const db = await getDb();
  const waiting = sql`f.blocked_until is not null and f.blocked_until > now()`;
  const next = sql`(case when ${waiting} then f.failures when f.last_failure_at < now() - make_interval(secs => ${FORGET_AFTER_SECONDS}) then 1 else least(f.failures + 1, 1000000) end)`;
  const result = await db.execute(sql`
    insert into sign_in_failures as f (key, failures, blocked_until, last_failure_at)
    values (${key}, 1, null, now())
    on conflict (key) do update set
      failures = ${next},
      blocked_until = case
        when ${waiting} then f.blocked_until
        when ${next} > ${rule.free}
          then now() + make_interval(secs => least(${rule.capSeconds}, power(2, least(${next} - ${rule.free} - 1, 30))))
        else null end,
      last_failure_at = case when ${waiting} then f.last_failure_at else now() end
    returning
      failures,
      (blocked_until is not null and blocked_until > now() and last_failure_at <> now()) as refused,
      greatest(0, ceil(extract(epoch from (coalesce(blocked_until, now()) - now()))))::int as wait_seconds`);
  const [row] = rowsOf<{ failures: number; refused: boolean; wait_seconds: number }>(result);
  if (!row) throw new Error("the sign-in throttle returned no row");
  return { failures: Number(row.failures), refused: row.refused, waitSeconds: Number(row.wait_seconds) };
}

const accountKey = (email: string) => `account:${email.trim().toLowerCase().slice(0, 320)}`;
const addressKey = (address: string) => `address:${address}`;

/** Counts a password sign-in attempt; refused while the address or the account must wait. */
export async function takeSignInAttempt(email: string, address: string): Promise<SignInAttempt> {
  if (++attemptsSinceSweep >= SWEEP_EVERY) {
    attemptsSinceSweep = 0;
    const db = await getDb();
    await db.delete(signInFailures).where(sql`${signInFailures.lastFailureAt} < now() - interval '1 day'`);
  }
  const waits: ThrottleWait[] = [];
  for (const [by, key] of [
    ["address", addressKey(address)],
    ["account", accountKey(email)],
  ] as const) {
    const taken = await takeAttempt(key, SIGN_IN_THROTTLE[by]);
    if (taken.refused) return { allowed: false, retryAfterSeconds: Math.max(1, taken.waitSeconds), by };
    if (taken.waitSeconds > 0) waits.push({ by, failures: taken.failures, seconds: taken.waitSeconds });
  }
  return { allowed: true, waits };
}

/**
 * Counts a single sign-on answer (SAML) from an address before it is checked: a stream of forged or replayed
 * answers slows that address down like wrong passwords do. The account is not known until the answer verifies.
 */
export async function takeAddressSignInAttempt(address: string): Promise<SignInAttempt> {
  const taken = await takeAttempt(addressKey(address), SIGN_IN_THROTTLE.address);
  if (taken.refused)
    return { allowed: false, retryAfterSeconds: Math.max(1, taken.waitSeconds), by: "address" };
  const waits: ThrottleWait[] =
    taken.waitSeconds > 0 ? [{ by: "address", failures: taken.failures, seconds: taken.waitSeconds }] : [];
  return { allowed: true, waits };
}

/** A verified single sign-on answer: the address gets this attempt back. */
export async function forgiveAddressSignIn(address: string): Promise<void> {
  const db = await getDb();
  await db
    .update(signInFailures)
    .set({ failures: sql`greatest(0, ${signInFailures.failures} - 1)` })
    .where(eq(signInFailures.key, addressKey(address)));
}

/** A successful sign-in: the account's count is cleared, the address gets this attempt back. */
export async function forgiveSignIn(email: string, address: string): Promise<void> {
  const db = await getDb();
  await db.delete(signInFailures).where(eq(signInFailures.key, accountKey(email)));
  await db
    .update(signInFailures)
    .set({ failures: sql`greatest(0, ${signInFailures.failures} - 1)` })
    .where(eq(signInFailures.key, addressKey(address)));
}

/** What the sign-in page shows for a refusal (next-auth passes the thrown message as the error code). */
export const THROTTLED_PREFIX = "Throttled:";
