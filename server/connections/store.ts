/** Drizzle queries for connections and which groups may use them. */
import "server-only";
import { and, asc, desc, eq, inArray, isNull } from "drizzle-orm";
import { accessRevocations, connectionGroups, connections, groups } from "@/db/schema";
import type { Db } from "@/db/store";

export async function findConnectionByName(db: Db, name: string) {
  const [row] = await db.select().from(connections).where(eq(connections.name, name)).limit(1);
  return row;
}

export async function findConnectionById(db: Db, id: string) {
  const [row] = await db.select().from(connections).where(eq(connections.id, id)).limit(1);
  return row;
}

export async function listConnectionRows(db: Db) {
  return db.select().from(connections).orderBy(asc(connections.name));
}

export async function groupsByConnection(db: Db, connectionIds: string[]) {
  if (connectionIds.length === 0) return new Map<string, { id: string; name: string }[]>();
  const rows = await db
    .select({ connectionId: connectionGroups.connectionId, id: groups.id, name: groups.name })
    .from(connectionGroups)
    .innerJoin(groups, eq(groups.id, connectionGroups.groupId))
    .where(inArray(connectionGroups.connectionId, connectionIds))
    .orderBy(asc(groups.name));
  const map = new Map<string, { id: string; name: string }[]>();
  for (const r of rows)
    map.set(r.connectionId, [...(map.get(r.connectionId) ?? []), { id: r.id, name: r.name }]);
  return map;
}

export async function replaceConnectionGroups(db: Db, connectionId: string, groupIds: string[]) {
  await db.delete(connectionGroups).where(eq(connectionGroups.connectionId, connectionId));
  if (groupIds.length > 0) {
    await db.insert(connectionGroups).values(groupIds.map((groupId) => ({ connectionId, groupId })));
  }
}

/** Access taken back in access reviews and not lifted: the principal's revocations, newest first. */
export async function activeRevocations(db: Db, principalId: string) {
  return db
    .select()
    .from(accessRevocations)
    .where(and(eq(accessRevocations.principalId, principalId), isNull(accessRevocations.liftedAt)))
    .orderBy(desc(accessRevocations.at));
}
