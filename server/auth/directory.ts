/** Read side of identity management for the console's pages and the API, plus first-run setup. */
import "server-only";
import { getDb } from "@/db/store";
import { SYSTEM_ACTOR } from "@/server/audit";
import { GatewayError } from "@/server/errors";
import { listClientSecrets } from "./client-secrets";
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
  const [accounts, tokens, secrets] = await Promise.all([
    listUsersWithGroups(db, "service"),
    listServiceAccountTokens(),
    listClientSecrets(),
  ]);
  return accounts.map((a) => ({
    ...publicUser(a),
    tokens: tokens.filter((t) => t.userId === a.id).map(credentialView),
    clientSecrets: secrets.filter((s) => s.userId === a.id).map(credentialView),
  }));
}

/** A token or client secret as lists show it: never the secret, only its first characters. */
function credentialView(c: {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) {
  return {
    id: c.id,
    name: c.name,
    prefix: c.prefix,
    createdAt: c.createdAt.toISOString(),
    expiresAt: c.expiresAt?.toISOString() ?? null,
    lastUsedAt: c.lastUsedAt?.toISOString() ?? null,
    revokedAt: c.revokedAt?.toISOString() ?? null,
  };
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
