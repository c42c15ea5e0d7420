/** Drizzle queries for campaigns, their items and revocations. No rules here: campaigns.ts, decisions.ts, revocations.ts and the others decide. */
import "server-only";
import { and, asc, desc, eq, inArray, isNull, lte } from "drizzle-orm";
import {
  type AccessReviewItem,
  accessGrants,
  accessReviewCampaigns,
  accessReviewItems,
  accessRevocations,
  accessTouches,
  connections,
  groups,
  users,
} from "@/db/schema";
import type { Db } from "@/db/store";

export async function findCampaign(db: Db, id: string) {
  const [row] = await db.select().from(accessReviewCampaigns).where(eq(accessReviewCampaigns.id, id));
  return row;
}

export async function listCampaignRows(db: Db) {
  return db.select().from(accessReviewCampaigns).orderBy(desc(accessReviewCampaigns.createdAt)).limit(500);
}

export async function campaignItems(db: Db, campaignIds: string[]) {
  if (campaignIds.length === 0) return [];
  return db
    .select()
    .from(accessReviewItems)
    .where(inArray(accessReviewItems.campaignId, campaignIds))
    .orderBy(asc(accessReviewItems.principalLabel), asc(accessReviewItems.connectionName));
}

export async function insertItems(db: Db, items: (typeof accessReviewItems.$inferInsert)[]) {
  for (let i = 0; i < items.length; i += 500)
    await db.insert(accessReviewItems).values(items.slice(i, i + 500));
}

/** Records a decision unless one was made meanwhile; returns the item when this call decided it. */
export async function setItemDecision(
  db: Db,
  itemId: string,
  values: Pick<AccessReviewItem, "decision" | "decidedBy" | "decidedByLabel" | "decidedAt" | "comment">,
) {
  const [row] = await db
    .update(accessReviewItems)
    .set(values)
    .where(and(eq(accessReviewItems.id, itemId), isNull(accessReviewItems.decision)))
    .returning();
  return row;
}

export async function setItemEffect(db: Db, itemId: string, effect: Record<string, unknown>) {
  await db.update(accessReviewItems).set({ effect }).where(eq(accessReviewItems.id, itemId));
}

/** Ends the principal's active grants on a connection; returns the ended grants' ids. */
export async function revokeActiveGrants(db: Db, principalId: string, connectionId: string) {
  const rows = await db
    .update(accessGrants)
    .set({ state: "revoked", decidedAt: new Date() })
    .where(
      and(
        eq(accessGrants.userId, principalId),
        eq(accessGrants.connectionId, connectionId),
        eq(accessGrants.state, "active"),
      ),
    )
    .returning({ id: accessGrants.id });
  return rows.map((r) => r.id);
}

export async function insertRevocation(db: Db, values: typeof accessRevocations.$inferInsert) {
  await db.insert(accessRevocations).values(values);
}

export async function listActiveRevocations(db: Db) {
  return db
    .select({
      revocation: accessRevocations,
      connection: connections.name,
      principalEmail: users.email,
      principalName: users.name,
      principalKind: users.kind,
    })
    .from(accessRevocations)
    .innerJoin(connections, eq(connections.id, accessRevocations.connectionId))
    .leftJoin(users, eq(users.id, accessRevocations.principalId))
    .where(isNull(accessRevocations.liftedAt))
    .orderBy(desc(accessRevocations.at))
    .limit(1000);
}

export async function liftRevocationRow(db: Db, id: string, byLabel: string) {
  const [row] = await db
    .update(accessRevocations)
    .set({ liftedAt: new Date(), liftedByLabel: byLabel })
    .where(and(eq(accessRevocations.id, id), isNull(accessRevocations.liftedAt)))
    .returning();
  return row;
}

export async function groupsByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await db
    .select({ id: groups.id, name: groups.name })
    .from(groups)
    .where(inArray(groups.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function groupsByNames(db: Db, names: string[]) {
  if (names.length === 0) return [];
  return db.select({ id: groups.id, name: groups.name }).from(groups).where(inArray(groups.name, names));
}

export async function connectionsByNames(db: Db, names: string[]) {
  if (names.length === 0) return [];
  return db
    .select({ id: connections.id, name: connections.name })
    .from(connections)
    .where(inArray(connections.name, names));
}

export async function connectionOwners(db: Db) {
  return db
    .select({ id: connections.id, name: connections.name, ownerGroupId: connections.ownerGroupId })
    .from(connections);
}

export async function setConnectionOwnerRow(db: Db, connectionId: string, ownerGroupId: string | null) {
  await db.update(connections).set({ ownerGroupId }).where(eq(connections.id, connectionId));
}

export async function insertCampaign(db: Db, values: typeof accessReviewCampaigns.$inferInsert) {
  await db.insert(accessReviewCampaigns).values(values);
}

export async function closeCampaignRow(db: Db, id: string, byLabel: string) {
  const [row] = await db
    .update(accessReviewCampaigns)
    .set({ state: "closed", closedAt: new Date(), closedByLabel: byLabel })
    .where(and(eq(accessReviewCampaigns.id, id), eq(accessReviewCampaigns.state, "open")))
    .returning();
  return row;
}

/** Open campaigns due before `before` that were not reminded yet, marked reminded in the same statement. */
export async function takeDueReminders(db: Db, now: Date, before: Date) {
  return db
    .update(accessReviewCampaigns)
    .set({ remindedAt: now })
    .where(
      and(
        eq(accessReviewCampaigns.state, "open"),
        isNull(accessReviewCampaigns.remindedAt),
        lte(accessReviewCampaigns.dueAt, before),
      ),
    )
    .returning();
}

/** Names the matrix filters offer: groups, connections and the masked types any result touched. */
export async function filterOptions(db: Db) {
  const [groupRows, connectionRows, typeRows] = await Promise.all([
    db.select({ name: groups.name }).from(groups).orderBy(asc(groups.name)),
    db.select({ name: connections.name }).from(connections).orderBy(asc(connections.name)),
    db
      .selectDistinct({ name: accessTouches.name })
      .from(accessTouches)
      .where(eq(accessTouches.kind, "type"))
      .orderBy(asc(accessTouches.name)),
  ]);
  return {
    groups: groupRows.map((r) => r.name),
    connections: connectionRows.map((r) => r.name),
    types: typeRows.map((r) => r.name),
  };
}
