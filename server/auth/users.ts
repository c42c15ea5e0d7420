/**
 * Users, groups and membership: creation, updates, sign-in checks and the single sign-on group mapping.
 * Every mutating function takes the acting principal (or the system actor) and writes an audit event.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, count, eq, inArray, notInArray, sql } from "drizzle-orm";
import { groupMembers, groups, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { badRequest, conflict, notFound } from "@/server/errors";
import type { Principal } from "@/server/principal";
import { invalidateStoreCaches } from "@/server/store-cache";
import { hashPassword, verifyPassword } from "./passwords";
import {
  type CreateGroupInput,
  type CreateUserInput,
  createGroupSchema,
  createUserSchema,
  type UpdateUserInput,
  updateUserSchema,
} from "./schema";
import { setServiceAccountRole } from "./service-accounts";
import { findGroupsByName, findUserByEmail, findUserById } from "./store";

export async function countPeople(): Promise<number> {
  const db = await getDb();
  const [row] = await db.select({ n: count() }).from(users).where(eq(users.kind, "person"));
  return row?.n ?? 0;
}

/** The ids of these groups; a 400 naming any that does not exist. */
export async function resolveGroupIds(names: string[]): Promise<string[]> {
  const db = await getDb();
  const unique = [...new Set(names)];
  const found = await findGroupsByName(db, unique);
  const missing = unique.filter((n) => !found.some((g) => g.name === n));
  if (missing.length > 0) throw badRequest(`unknown group: ${missing.join(", ")}`);
  return found.map((g) => g.id);
}

export async function createUser(actor: Actor, input: CreateUserInput) {
  const data = createUserSchema.parse(input);
  const db = await getDb();
  if (await findUserByEmail(db, data.email))
    throw conflict(`a user with the email ${data.email} already exists`);
  const groupIds = await resolveGroupIds(data.groups);
  const id = randomUUID();
  await db.insert(users).values({
    id,
    email: data.email,
    name: data.name ?? data.email.split("@")[0] ?? data.email,
    passwordHash: await hashPassword(data.password),
    role: data.role,
    kind: "person",
    authSource: "local",
  });
  if (groupIds.length > 0)
    await db.insert(groupMembers).values(groupIds.map((groupId) => ({ groupId, userId: id })));
  await recordAuditEvent(actor, "user.create", data.email, { role: data.role, groups: data.groups });
  return id;
}

export async function updateUser(actor: Actor, id: string, input: UpdateUserInput) {
  const data = updateUserSchema.parse(input);
  const db = await getDb();
  const user = await findUserById(db, id);
  if (!user) throw notFound("no such user");
  if (actor.id === id && (data.role === "member" || data.disabled === true)) {
    throw badRequest("you cannot demote or disable yourself; ask another admin");
  }
  if (user.kind === "service" && data.role !== undefined) {
    // A service account's role goes through its own audited path (credential caps, who may grant it).
    if (actor.id !== null)
      throw badRequest("change a service account's role with PATCH /api/v1/service-accounts/{id}");
    await setServiceAccountRole(actor, "system", id, data.role);
  }
  await db
    .update(users)
    .set({
      ...(data.name !== undefined && { name: data.name }),
      ...(data.role !== undefined && { role: data.role }),
      ...(data.disabled !== undefined && { disabled: data.disabled }),
      ...(data.password !== undefined && { passwordHash: await hashPassword(data.password) }),
      // A new password, role or disabled flag ends the person's sessions (server/auth/sessions.ts).
      ...((data.password !== undefined || data.role !== undefined || data.disabled !== undefined) && {
        sessionEpoch: sql`${users.sessionEpoch} + 1`,
      }),
    })
    .where(eq(users.id, id));
  if (data.groups !== undefined) await setLocalGroups(id, data.groups);
  const { password: _password, ...changes } = data;
  await recordAuditEvent(actor, "user.update", user.email, {
    ...changes,
    ...(data.password !== undefined && { password: "changed" }),
  });
}

export async function deleteUser(actor: Actor, id: string) {
  const db = await getDb();
  const user = await findUserById(db, id);
  if (!user) throw notFound("no such user");
  if (actor.id === id) throw badRequest("you cannot delete yourself");
  await db.delete(users).where(eq(users.id, id));
  await recordAuditEvent(
    actor,
    user.kind === "service" ? "service_account.delete" : "user.delete",
    user.email,
  );
}

/** Replaces a user's console-managed memberships; memberships from single sign-on are left alone. */
export async function setLocalGroups(userId: string, names: string[]) {
  const db = await getDb();
  const groupIds = await resolveGroupIds(names);
  await db
    .delete(groupMembers)
    .where(
      and(
        eq(groupMembers.userId, userId),
        eq(groupMembers.source, "local"),
        groupIds.length > 0 ? notInArray(groupMembers.groupId, groupIds) : undefined,
      ),
    );
  if (groupIds.length > 0) {
    await db
      .insert(groupMembers)
      .values(groupIds.map((groupId) => ({ groupId, userId, source: "local" as const })))
      .onConflictDoNothing();
  }
}

export async function createGroup(actor: Actor, input: CreateGroupInput) {
  const data = createGroupSchema.parse(input);
  const db = await getDb();
  const [existing] = await findGroupsByName(db, [data.name]);
  if (existing) throw conflict(`a group named ${data.name} already exists`);
  const id = randomUUID();
  await db.insert(groups).values({ id, name: data.name, description: data.description });
  await recordAuditEvent(actor, "group.create", data.name);
  return id;
}

export async function deleteGroup(actor: Actor, id: string) {
  const db = await getDb();
  const [group] = await db.select().from(groups).where(eq(groups.id, id));
  if (!group) throw notFound("no such group");
  await db.delete(groups).where(eq(groups.id, id));
  await recordAuditEvent(actor, "group.delete", group.name);
}

export async function addGroupMember(actor: Actor, groupId: string, userId: string) {
  const db = await getDb();
  const [group] = await db.select().from(groups).where(eq(groups.id, groupId));
  const user = await findUserById(db, userId);
  if (!group || !user) throw notFound("no such group or user");
  await db.insert(groupMembers).values({ groupId, userId }).onConflictDoNothing();
  await recordAuditEvent(actor, "group.member_add", group.name, { user: user.email });
}

export async function removeGroupMember(actor: Actor, groupId: string, userId: string) {
  const db = await getDb();
  const [group] = await db.select().from(groups).where(eq(groups.id, groupId));
  const user = await findUserById(db, userId);
  if (!group || !user) throw notFound("no such group or user");
  await db
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)));
  await recordAuditEvent(actor, "group.member_remove", group.name, { user: user.email });
}

/** Checks a local account's password. Returns the user id, or null without saying which part was wrong. */
export async function verifyLocalSignIn(email: string, password: string): Promise<string | null> {
  const db = await getDb();
  const user = await findUserByEmail(db, email.trim());
  if (!user || user.disabled || user.kind !== "person" || !user.passwordHash) {
    // Spend comparable time so that unknown emails are not distinguishable by timing.
    await hashPassword(password);
    return null;
  }
  return (await verifyPassword(password, user.passwordHash)) ? user.id : null;
}

/**
 * Signs in a single sign-on user (OpenID Connect or SAML, `source`): creates the account on first sight, and
 * makes its memberships from that source equal to the identity provider's groups (groups are created when
 * first named).
 */
export async function upsertOidcUser(profile: {
  email: string;
  name: string;
  groups: string[];
  source?: "oidc" | "saml";
}): Promise<string> {
  const source = profile.source ?? "oidc";
  const db = await getDb();
  let user = await findUserByEmail(db, profile.email);
  if (!user) {
    const id = randomUUID();
    await db
      .insert(users)
      .values({ id, email: profile.email, name: profile.name, kind: "person", authSource: source });
    user = await findUserById(db, id);
    await recordAuditEvent({ id, label: profile.email }, "user.create", profile.email, { source });
  }
  if (!user || user.disabled) throw new Error("account disabled");
  const names = [
    ...new Set(profile.groups.map((g) => g.trim()).filter((g) => g.length > 0 && g.length <= 64)),
  ];
  for (const name of names) {
    await db
      .insert(groups)
      .values({ id: randomUUID(), name, description: "from single sign-on" })
      .onConflictDoNothing();
  }
  const claimed = await findGroupsByName(db, names);
  const claimedIds = claimed.map((g) => g.id);
  await db
    .delete(groupMembers)
    .where(
      and(
        eq(groupMembers.userId, user.id),
        eq(groupMembers.source, source),
        claimedIds.length > 0 ? notInArray(groupMembers.groupId, claimedIds) : undefined,
      ),
    );
  if (claimedIds.length > 0) {
    await db
      .insert(groupMembers)
      .values(claimedIds.map((groupId) => ({ groupId, userId: user.id, source })))
      .onConflictDoNothing();
  }
  // Memberships from the identity provider changed without an audit event: cached principals are stale.
  await invalidateStoreCaches();
  return user.id;
}

/** Loads the principal for a user id; null when the user is gone or disabled (sessions end at once). */
export async function loadPrincipal(
  userId: string,
  via: Principal["via"],
  tokenId?: string,
): Promise<Principal | null> {
  return (await loadPrincipalWithEpoch(userId, via, tokenId))?.principal ?? null;
}

/** loadPrincipal, with the person's current session epoch (a session cookie must carry the same). */
export async function loadPrincipalWithEpoch(
  userId: string,
  via: Principal["via"],
  tokenId?: string,
): Promise<{ principal: Principal; sessionEpoch: number } | null> {
  const db = await getDb();
  // One round trip: the user with one row per group (or one row with no group).
  const rows = await db
    .select({ user: users, groupId: groups.id, groupName: groups.name })
    .from(users)
    .leftJoin(groupMembers, eq(groupMembers.userId, users.id))
    .leftJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(users.id, userId));
  const user = rows[0]?.user;
  if (!user || user.disabled) return null;
  const memberOf = rows
    .filter(
      (r): r is typeof r & { groupId: string; groupName: string } =>
        r.groupId !== null && r.groupName !== null,
    )
    .map((r) => ({ id: r.groupId, name: r.groupName }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const principal: Principal = {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    kind: user.kind,
    groups: memberOf.map((g) => ({ id: g.id, name: g.name })),
    via,
    ...(tokenId && { tokenId }),
  };
  return { principal, sessionEpoch: user.sessionEpoch };
}

export async function touchLastSeen(userIds: string[]) {
  if (userIds.length === 0) return;
  const db = await getDb();
  await db.update(users).set({ lastSeenAt: new Date() }).where(inArray(users.id, userIds));
}
