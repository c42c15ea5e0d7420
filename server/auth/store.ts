/** Drizzle queries for users, groups and memberships. No policy here: callers check permissions. */
import "server-only";
import { asc, count, eq, inArray, sql } from "drizzle-orm";
import { groupMembers, groups, users } from "@/db/schema";
import type { Db } from "@/db/store";

export async function findUserByEmail(db: Db, email: string) {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`)
    .limit(1);
  return row;
}

export async function findUserById(db: Db, id: string) {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function findGroupsByName(db: Db, names: string[]) {
  if (names.length === 0) return [];
  return db.select().from(groups).where(inArray(groups.name, names));
}

export async function listUsersWithGroups(db: Db, kind: "person" | "service") {
  const rows = await db.select().from(users).where(eq(users.kind, kind)).orderBy(asc(users.email));
  const memberships = await db
    .select({ userId: groupMembers.userId, name: groups.name })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .orderBy(asc(groups.name));
  const byUser = new Map<string, string[]>();
  for (const m of memberships) byUser.set(m.userId, [...(byUser.get(m.userId) ?? []), m.name]);
  return rows.map((u) => ({ ...u, groups: byUser.get(u.id) ?? [] }));
}

export async function listGroupsWithCounts(db: Db) {
  return db
    .select({
      id: groups.id,
      name: groups.name,
      description: groups.description,
      createdAt: groups.createdAt,
      members: count(groupMembers.userId),
    })
    .from(groups)
    .leftJoin(groupMembers, eq(groupMembers.groupId, groups.id))
    .groupBy(groups.id)
    .orderBy(asc(groups.name));
}

export async function membersOfGroup(db: Db, groupId: string) {
  return db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      kind: users.kind,
      source: groupMembers.source,
    })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(asc(users.email));
}
