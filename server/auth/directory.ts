/** Read side of identity management for the console's pages and the API, plus first-run setup. */
import "server-only";
import { getDb } from "@/db/store";
import { SYSTEM_ACTOR } from "@/server/audit";
import { GatewayError } from "@/server/errors";
import { listGroupsWithCounts, listUsersWithGroups, membersOfGroup } from "./store";
import { listServiceAccountTokens } from "./tokens";
import { countPeople, createUser } from "./users";

function publicUser(u: Awaited<ReturnType<typeof listUsersWithGroups>>[number]) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    kind: u.kind,
    authSource: u.authSource,
    disabled: u.disabled,
    groups: u.groups,
    createdAt: u.createdAt.toISOString(),
    lastSeenAt: u.lastSeenAt?.toISOString() ?? null,
  };
}

export type UserView = ReturnType<typeof publicUser>;

export async function listPeople(): Promise<UserView[]> {
  return (await listUsersWithGroups(await getDb(), "person")).map(publicUser);
}

export async function listGroups() {
  const db = await getDb();
  const rows = await listGroupsWithCounts(db);
  return Promise.all(
    rows.map(async (g) => ({
      id: g.id,
      name: g.name,
      description: g.description,
      createdAt: g.createdAt.toISOString(),
      members: await membersOfGroup(db, g.id),
    })),
  );
}
export type GroupView = Awaited<ReturnType<typeof listGroups>>[number];

export async function listServiceAccounts() {
  const db = await getDb();
  const [accounts, tokens] = await Promise.all([
    listUsersWithGroups(db, "service"),
    listServiceAccountTokens(),
  ]);
  return accounts.map((a) => ({
    ...publicUser(a),
    tokens: tokens
      .filter((t) => t.userId === a.id)
      .map((t) => ({
        id: t.id,
        name: t.name,
        prefix: t.prefix,
        createdAt: t.createdAt.toISOString(),
        expiresAt: t.expiresAt?.toISOString() ?? null,
        lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        revokedAt: t.revokedAt?.toISOString() ?? null,
      })),
  }));
}
export type ServiceAccountView = Awaited<ReturnType<typeof listServiceAccounts>>[number];

export async function isSetupNeeded(): Promise<boolean> {
  return (await countPeople()) === 0;
}

export async function createFirstAdmin(input: { email: string; password: string; name?: string }) {
  if (!(await isSetupNeeded())) {
    throw new GatewayError("forbidden", "setup is already done: sign in, or ask an admin for an account");
  }
  return createUser(SYSTEM_ACTOR, { ...input, role: "admin" });
}
