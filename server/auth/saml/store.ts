/**
 * The SAML tables: assertions accepted (replay refusal and the one-time hand-off to a session) and the
 * AuthnRequest IDs the console sent (node-saml's cache provider, in the store so every replica agrees).
 * Not responsible for deciding whether an assertion is valid (service.ts).
 */
import "server-only";
import type { CacheItem, CacheProvider } from "@node-saml/node-saml";
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { samlAssertions, samlRequests } from "@/db/schema";
import { getDb } from "@/db/store";

/**
 * Records an accepted assertion; false when the same issuer's assertion ID was accepted before (a replay).
 * One insert: two replicas handed the same assertion at once cannot both accept it.
 */
export async function recordAssertion(row: {
  issuer: string;
  assertionId: string;
  userId: string | null;
  handoffHash: string;
  expiresAt: Date;
}): Promise<boolean> {
  const db = await getDb();
  // Rows whose assertions can no longer pass the time window are of no more use.
  await db.delete(samlAssertions).where(lt(samlAssertions.expiresAt, sql`now() - interval '1 day'`));
  const inserted = await db
    .insert(samlAssertions)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: samlAssertions.assertionId });
  return inserted.length > 0;
}

/** Names the person an accepted assertion signed in (known once the account is made). */
export async function attachUser(issuer: string, assertionId: string, userId: string): Promise<void> {
  const db = await getDb();
  await db
    .update(samlAssertions)
    .set({ userId })
    .where(and(eq(samlAssertions.issuer, issuer), eq(samlAssertions.assertionId, assertionId)));
}

/** The user an unused hand-off belongs to, marking it used; undefined when unknown, used or too old. */
export async function redeemHandoff(handoffHash: string, maxAgeSeconds: number): Promise<string | undefined> {
  const db = await getDb();
  const rows = await db
    .update(samlAssertions)
    .set({ redeemedAt: sql`now()` })
    .where(
      and(
        eq(samlAssertions.handoffHash, handoffHash),
        isNull(samlAssertions.redeemedAt),
        gt(samlAssertions.receivedAt, sql`now() - make_interval(secs => ${maxAgeSeconds})`),
      ),
    )
    .returning({ userId: samlAssertions.userId });
  return rows[0]?.userId ?? undefined;
}

/** AuthnRequest IDs in the store; an ID older than `maxAgeMs` reads as unknown. */
export function storedRequestIds(maxAgeMs: number): CacheProvider {
  return {
    async saveAsync(key: string, value: string): Promise<CacheItem | null> {
      const db = await getDb();
      await db.delete(samlRequests).where(lt(samlRequests.createdAt, sql`now() - interval '1 day'`));
      const rows = await db.insert(samlRequests).values({ id: key }).onConflictDoNothing().returning();
      return rows[0] ? { value, createdAt: rows[0].createdAt.getTime() } : null;
    },
    async getAsync(key: string): Promise<string | null> {
      const db = await getDb();
      const [row] = await db
        .select()
        .from(samlRequests)
        .where(
          and(
            eq(samlRequests.id, key),
            gt(samlRequests.createdAt, sql`now() - make_interval(secs => ${maxAgeMs / 1000})`),
          ),
        );
      return row ? row.createdAt.toISOString() : null;
    },
    async removeAsync(key: string | null): Promise<string | null> {
      if (key === null) return null;
      const db = await getDb();
      const rows = await db.delete(samlRequests).where(eq(samlRequests.id, key)).returning();
      return rows[0] ? key : null;
    },
  };
}
