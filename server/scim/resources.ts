/**
 * SCIM Users and Groups over the console's own people and groups. The identity provider reaches only people who
 * sign in through single sign-on: local password accounts (the break-glass admin) and service accounts are not
 * SCIM resources, so a SCIM token can neither see nor disable them. Deactivating or deleting a person goes the
 * same way as an admin doing it (server/auth updateUser / deleteUser: session epoch raised, audited, caches
 * cleared on every replica), so their console sessions and access end on the next request. Memberships the
 * provider adds are "scim" memberships; it removes only those, and a membership change is audited and so
 * applies to the next request. No role is a SCIM attribute: the provider cannot make anyone an admin.
 * Not responsible for HTTP, errors' wire shape or discovery documents (handler.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { groupMembers, groups, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { createGroup, deleteGroup, deleteUser, updateUser } from "@/server/auth";
import { type Filter, matchesFilter } from "./filter";

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/** A refusal in SCIM's words: status, scimType (RFC 7644 §3.12) and a detail for a person. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?:
      | "invalidFilter"
      | "uniqueness"
      | "mutability"
      | "invalidSyntax"
      | "invalidPath"
      | "invalidValue"
      | "noTarget",
  ) {
    super(message);
  }
}

type UserRow = typeof users.$inferSelect;
type GroupRow = typeof groups.$inferSelect;
type Json = Record<string, unknown>;

const isProvisionable = (u: UserRow | undefined): u is UserRow =>
  u !== undefined && u.kind === "person" && u.authSource !== "local";

const emailOf = z.email();

function userResource(u: UserRow, memberOf: { id: string; name: string }[], base: string): Json {
  const [given, ...rest] = u.name.split(" ");
  return {
    schemas: [USER_SCHEMA],
    id: u.id,
    ...(u.scimExternalId && { externalId: u.scimExternalId }),
    userName: u.email,
    displayName: u.name,
    name: { formatted: u.name, givenName: given ?? "", familyName: rest.join(" ") },
    emails: [{ value: u.email, primary: true, type: "work" }],
    active: !u.disabled,
    groups: memberOf.map((g) => ({ value: g.id, display: g.name, $ref: `${base}/Groups/${g.id}` })),
    meta: { resourceType: "User", created: u.createdAt.toISOString(), location: `${base}/Users/${u.id}` },
  };
}

function groupResource(g: GroupRow, members: { id: string; email: string }[], base: string): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: g.id,
    ...(g.scimExternalId && { externalId: g.scimExternalId }),
    displayName: g.name,
    members: members.map((m) => ({ value: m.id, display: m.email, $ref: `${base}/Users/${m.id}` })),
    meta: { resourceType: "Group", created: g.createdAt.toISOString(), location: `${base}/Groups/${g.id}` },
  };
}

/** RFC 7644 §3.4.2.4: 1-based startIndex, count (at most 200; 0 gives only the total). */
export function pageOf<T>(items: T[], startIndexText: string | null, countText: string | null) {
  const startIndex = Math.max(1, Number.parseInt(startIndexText ?? "1", 10) || 1);
  const parsedCount = countText === null ? 100 : Number.parseInt(countText, 10);
  const count = Math.min(200, Math.max(0, Number.isNaN(parsedCount) ? 100 : parsedCount));
  const page = items.slice(startIndex - 1, startIndex - 1 + count);
  return {
    schemas: [LIST_SCHEMA],
    totalResults: items.length,
    startIndex,
    itemsPerPage: page.length,
    Resources: page,
  };
}

async function scimMembershipsOf(userIds: string[]) {
  if (userIds.length === 0) return [];
  const db = await getDb();
  return db
    .select({ userId: groupMembers.userId, id: groups.id, name: groups.name })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(inArray(groupMembers.userId, userIds), eq(groupMembers.source, "scim")))
    .orderBy(asc(groups.name));
}

export async function listUsers(filter: Filter | undefined, base: string): Promise<Json[]> {
  const db = await getDb();
  const rows = (await db.select().from(users).orderBy(asc(users.createdAt), asc(users.id))).filter(
    isProvisionable,
  );
  const memberships = await scimMembershipsOf(rows.map((r) => r.id));
  const resources = rows.map((u) =>
    userResource(
      u,
      memberships.filter((m) => m.userId === u.id),
      base,
    ),
  );
  return filter ? resources.filter((r) => matchesFilter(r, filter)) : resources;
}

async function findProvisionable(id: string): Promise<UserRow> {
  const db = await getDb();
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!isProvisionable(row)) throw new ScimError(404, `no such user ${id}`, "noTarget");
  return row;
}

export async function getUser(id: string, base: string): Promise<Json> {
  const user = await findProvisionable(id);
  return userResource(user, await scimMembershipsOf([id]), base);
}

/** The attributes of a User body (POST, PUT, or a PATCH without a path) that we keep. */
interface UserInput {
  userName?: string;
  displayName?: string;
  externalId?: string | null;
  active?: boolean;
}

function asBoolean(value: unknown, name: string): boolean {
  // Azure AD sends "True" / "False" as strings.
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  throw new ScimError(400, `${name} must be true or false`, "invalidValue");
}

function asText(value: unknown, name: string, max = 254): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > max)
    throw new ScimError(
      400,
      `${name} must be a non-empty string of at most ${max} characters`,
      "invalidValue",
    );
  return value.trim();
}

function nameFrom(body: Json): string | undefined {
  const name = body.name as Json | undefined;
  if (typeof body.displayName === "string" && body.displayName.trim()) return body.displayName.trim();
  if (name && typeof name.formatted === "string" && name.formatted.trim()) return name.formatted.trim();
  const parts = [name?.givenName, name?.familyName].filter(
    (p): p is string => typeof p === "string" && p !== "",
  );
  return parts.length > 0 ? parts.join(" ") : undefined;
}

function userInputOf(body: Json): UserInput {
  const emails = Array.isArray(body.emails) ? (body.emails as Json[]) : [];
  const primary = emails.find((e) => e.primary === true || e.primary === "true") ?? emails[0];
  const userName = body.userName === undefined ? undefined : asText(body.userName, "userName");
  // People are keyed by email: a userName that is not one gives way to the primary email.
  const email =
    userName && emailOf.safeParse(userName).success
      ? userName
      : typeof primary?.value === "string"
        ? primary.value
        : userName;
  const displayName = nameFrom(body);
  return {
    ...(email !== undefined && { userName: email.toLowerCase() }),
    ...(displayName !== undefined && { displayName: asText(displayName, "displayName", 120) }),
    ...(body.externalId !== undefined && {
      externalId: body.externalId === null ? null : asText(body.externalId, "externalId"),
    }),
    ...(body.active !== undefined && { active: asBoolean(body.active, "active") }),
  };
}

async function assertEmailFree(email: string, exceptId?: string) {
  const db = await getDb();
  const [taken] = await db
    .select()
    .from(users)
    .where(and(sql`lower(${users.email}) = ${email}`, exceptId ? ne(users.id, exceptId) : undefined));
  if (taken) {
    throw new ScimError(
      409,
      isProvisionable(taken)
        ? `a user with userName ${email} already exists (${taken.id})`
        : `${email} is a local account or a service account, which SCIM does not manage`,
      "uniqueness",
    );
  }
}

export async function createScimUser(actor: Actor, body: Json, base: string): Promise<Json> {
  const input = userInputOf(body);
  if (!input.userName || !emailOf.safeParse(input.userName).success)
    throw new ScimError(400, "userName (or a primary email) must be an email address", "invalidValue");
  await assertEmailFree(input.userName);
  const db = await getDb();
  const id = randomUUID();
  await db.insert(users).values({
    id,
    email: input.userName,
    name: input.displayName ?? input.userName.split("@")[0] ?? input.userName,
    kind: "person",
    authSource: "oidc",
    role: "member",
    disabled: input.active === false,
    scimExternalId: input.externalId ?? null,
    isScimManaged: true,
  });
  await recordAuditEvent(actor, "user.create", input.userName, {
    source: "scim",
    active: input.active !== false,
  });
  return getUser(id, base);
}

/** Applies kept attributes to a provisionable person; `active: false` ends their sessions (updateUser). */
async function applyUserInput(actor: Actor, user: UserRow, input: UserInput) {
  const db = await getDb();
  if (input.userName !== undefined && input.userName !== user.email.toLowerCase()) {
    if (!emailOf.safeParse(input.userName).success)
      throw new ScimError(400, "userName must be an email address", "invalidValue");
    await assertEmailFree(input.userName, user.id);
    await db
      .update(users)
      .set({ email: input.userName, sessionEpoch: sql`${users.sessionEpoch} + 1` })
      .where(eq(users.id, user.id));
    await recordAuditEvent(actor, "user.update", user.email, { source: "scim", email: input.userName });
  }
  if (input.externalId !== undefined) {
    await db
      .update(users)
      .set({ scimExternalId: input.externalId, isScimManaged: true })
      .where(eq(users.id, user.id));
  }
  const changes = {
    ...(input.displayName !== undefined && input.displayName !== user.name && { name: input.displayName }),
    ...(input.active !== undefined && input.active === user.disabled && { disabled: !input.active }),
  };
  if (Object.keys(changes).length > 0) await updateUser(actor, user.id, changes);
}

export async function replaceScimUser(actor: Actor, id: string, body: Json, base: string): Promise<Json> {
  const user = await findProvisionable(id);
  // PUT replaces: an omitted active means active (RFC 7643 default), an omitted externalId clears it.
  await applyUserInput(actor, user, { active: true, externalId: null, ...userInputOf(body) });
  return getUser(id, base);
}

interface PatchOperation {
  op: "add" | "replace" | "remove";
  path?: string;
  value?: unknown;
}

/** PatchOp bodies (RFC 7644 §3.5.2), with the spellings Okta and Azure AD use ("Replace", "False"). */
export function patchOperationsOf(body: Json): PatchOperation[] {
  const schemas = Array.isArray(body.schemas) ? body.schemas : [];
  if (!schemas.includes("urn:ietf:params:scim:api:messages:2.0:PatchOp"))
    throw new ScimError(400, "a PATCH body is a PatchOp message", "invalidSyntax");
  const ops = Array.isArray(body.Operations) ? (body.Operations as Json[]) : null;
  if (!ops || ops.length === 0)
    throw new ScimError(400, "Operations must be a non-empty array", "invalidSyntax");
  if (ops.length > 1000) throw new ScimError(400, "at most 1000 operations in one PATCH", "invalidSyntax");
  return ops.map((o) => {
    const op = typeof o.op === "string" ? o.op.toLowerCase() : "";
    if (op !== "add" && op !== "replace" && op !== "remove")
      throw new ScimError(400, `unsupported op ${JSON.stringify(o.op)}`, "invalidSyntax");
    if (o.path !== undefined && typeof o.path !== "string")
      throw new ScimError(400, "path must be a string", "invalidPath");
    return { op, ...(typeof o.path === "string" && { path: o.path }), value: o.value };
  });
}

export async function patchScimUser(actor: Actor, id: string, body: Json, base: string): Promise<Json> {
  const ops = patchOperationsOf(body);
  const user = await findProvisionable(id);
  let input: UserInput = {};
  for (const { op, path, value } of ops) {
    if (op === "remove") {
      if (path?.toLowerCase() === "externalid") input = { ...input, externalId: null };
      continue; // removing an attribute we do not keep changes nothing
    }
    if (path === undefined) {
      if (!value || typeof value !== "object")
        throw new ScimError(400, "a PATCH without a path needs an object", "invalidValue");
      input = { ...input, ...userInputOf(value as Json) };
      continue;
    }
    const key = path.toLowerCase();
    if (key === "active") input.active = asBoolean(value, "active");
    else if (key === "username") input = { ...input, ...userInputOf({ userName: value }) };
    else if (key === "displayname" || key === "name.formatted")
      input.displayName = asText(value, "displayName", 120);
    else if (key === "externalid") input.externalId = asText(value, "externalId");
    else if (key === "name") input = { ...input, ...userInputOf({ name: value }) };
    // Other attributes (title, phone numbers, the enterprise extension) are not kept; they change nothing.
  }
  await applyUserInput(actor, user, input);
  return getUser(id, base);
}

export async function deleteScimUser(actor: Actor, id: string): Promise<void> {
  await findProvisionable(id);
  await deleteUser(actor, id);
}

// Groups

async function scimMembersOf(groupIds: string[]) {
  if (groupIds.length === 0) return [];
  const db = await getDb();
  return db
    .select({ groupId: groupMembers.groupId, id: users.id, email: users.email })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(and(inArray(groupMembers.groupId, groupIds), eq(groupMembers.source, "scim")))
    .orderBy(asc(users.email));
}

export async function listScimGroups(filter: Filter | undefined, base: string, withMembers = true) {
  const db = await getDb();
  const rows = await db.select().from(groups).orderBy(asc(groups.createdAt), asc(groups.id));
  const members = withMembers ? await scimMembersOf(rows.map((g) => g.id)) : [];
  const resources = rows.map((g) =>
    groupResource(
      g,
      members.filter((m) => m.groupId === g.id),
      base,
    ),
  );
  return filter ? resources.filter((r) => matchesFilter(r, filter)) : resources;
}

async function findGroup(id: string): Promise<GroupRow> {
  const db = await getDb();
  const [row] = await db.select().from(groups).where(eq(groups.id, id));
  if (!row) throw new ScimError(404, `no such group ${id}`, "noTarget");
  return row;
}

export async function getScimGroup(id: string, base: string): Promise<Json> {
  const group = await findGroup(id);
  return groupResource(group, await scimMembersOf([id]), base);
}

function memberIdsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((m) => {
    const id = (m as Json | null)?.value;
    if (typeof id !== "string" || id === "")
      throw new ScimError(400, "each member needs a value (a user id)", "invalidValue");
    return id;
  });
}

/** Adds "scim" memberships; each member must be a person SCIM manages (never a service account). */
async function addMembers(actor: Actor, group: GroupRow, userIds: string[]) {
  const db = await getDb();
  for (const userId of [...new Set(userIds)]) {
    const [user] = await db.select().from(users).where(eq(users.id, userId));
    if (!isProvisionable(user))
      throw new ScimError(400, `no such user ${userId} to add to ${group.name}`, "invalidValue");
    const added = await db
      .insert(groupMembers)
      .values({ groupId: group.id, userId, source: "scim" })
      .onConflictDoNothing()
      .returning({ userId: groupMembers.userId });
    if (added.length > 0)
      await recordAuditEvent(actor, "group.member_add", group.name, { user: user.email, source: "scim" });
  }
}

/** Removes the provider's memberships only: one an admin gave in the console stays. */
async function removeMembers(actor: Actor, group: GroupRow, userIds: string[] | "all") {
  const db = await getDb();
  const removed = await db
    .delete(groupMembers)
    .where(
      and(
        eq(groupMembers.groupId, group.id),
        eq(groupMembers.source, "scim"),
        userIds === "all" ? undefined : inArray(groupMembers.userId, userIds.length > 0 ? userIds : [""]),
      ),
    )
    .returning({ userId: groupMembers.userId });
  for (const r of removed) {
    const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, r.userId));
    await recordAuditEvent(actor, "group.member_remove", group.name, {
      user: user?.email ?? r.userId,
      source: "scim",
    });
  }
}

async function setMembers(actor: Actor, group: GroupRow, userIds: string[]) {
  const current = (await scimMembersOf([group.id])).map((m) => m.id);
  await removeMembers(
    actor,
    group,
    current.filter((id) => !userIds.includes(id)),
  );
  await addMembers(
    actor,
    group,
    userIds.filter((id) => !current.includes(id)),
  );
}

async function renameGroup(actor: Actor, group: GroupRow, name: string) {
  if (name === group.name) return;
  if (!group.isScimManaged)
    throw new ScimError(400, `${group.name} was made in the console; rename it there`, "mutability");
  const db = await getDb();
  const [taken] = await db.select().from(groups).where(eq(groups.name, name));
  if (taken) throw new ScimError(409, `a group named ${name} already exists`, "uniqueness");
  await db.update(groups).set({ name }).where(eq(groups.id, group.id));
  await recordAuditEvent(actor, "group.rename", group.name, { to: name, source: "scim" });
}

export async function createScimGroup(actor: Actor, body: Json, base: string): Promise<Json> {
  const name = asText(body.displayName, "displayName", 64);
  const db = await getDb();
  const [taken] = await db.select().from(groups).where(eq(groups.name, name));
  if (taken) throw new ScimError(409, `a group named ${name} already exists (${taken.id})`, "uniqueness");
  let id: string;
  try {
    id = await createGroup(actor, { name, description: "from the identity provider (SCIM)" });
  } catch (err) {
    throw new ScimError(
      400,
      err instanceof Error ? err.message : "the group name is not valid",
      "invalidValue",
    );
  }
  await db
    .update(groups)
    .set({
      isScimManaged: true,
      scimExternalId: typeof body.externalId === "string" ? body.externalId : null,
    })
    .where(eq(groups.id, id));
  const group = await findGroup(id);
  await addMembers(actor, group, memberIdsOf(body.members));
  return getScimGroup(id, base);
}

export async function replaceScimGroup(actor: Actor, id: string, body: Json, base: string): Promise<Json> {
  const group = await findGroup(id);
  if (body.displayName !== undefined)
    await renameGroup(actor, group, asText(body.displayName, "displayName", 64));
  await setMembers(actor, group, memberIdsOf(body.members));
  return getScimGroup(id, base);
}

export async function patchScimGroup(actor: Actor, id: string, body: Json, base: string): Promise<Json> {
  const ops = patchOperationsOf(body);
  const group = await findGroup(id);
  for (const { op, path, value } of ops) {
    const key = path?.toLowerCase();
    // Okta removes one member as path `members[value eq "id"]`.
    const filtered = path ? /^members\[value eq "([^"]+)"\]$/i.exec(path) : null;
    if (filtered?.[1]) {
      if (op !== "remove")
        throw new ScimError(400, "only remove takes a filtered members path", "invalidPath");
      await removeMembers(actor, group, [filtered[1]]);
    } else if (key === "members") {
      if (op === "add") await addMembers(actor, group, memberIdsOf(value));
      else if (op === "remove")
        await removeMembers(actor, group, value === undefined ? "all" : memberIdsOf(value));
      else await setMembers(actor, group, memberIdsOf(value));
    } else if (key === "displayname") {
      await renameGroup(actor, group, asText(value, "displayName", 64));
    } else if (key === "externalid") {
      const db = await getDb();
      await db
        .update(groups)
        .set({ scimExternalId: op === "remove" ? null : asText(value, "externalId") })
        .where(eq(groups.id, id));
    } else if (key === undefined && value && typeof value === "object") {
      const v = value as Json;
      if (typeof v.displayName === "string")
        await renameGroup(actor, group, asText(v.displayName, "displayName", 64));
      if (v.members !== undefined) await setMembers(actor, group, memberIdsOf(v.members));
    } else {
      throw new ScimError(400, `unsupported path ${JSON.stringify(path)} for a group`, "invalidPath");
    }
  }
  return getScimGroup(id, base);
}

/** A group the provider made is deleted; one made in the console only loses the provider's memberships. */
export async function deleteScimGroup(actor: Actor, id: string): Promise<void> {
  const group = await findGroup(id);
  if (group.isScimManaged) {
    await deleteGroup(actor, id);
    return;
  }
  await removeMembers(actor, group, "all");
  const db = await getDb();
  await db.update(groups).set({ scimExternalId: null }).where(eq(groups.id, id));
}
