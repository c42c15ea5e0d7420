/**
 * Service accounts and their API tokens. A token is shown once at creation, stored as its SHA-256 (tokens are
 * 256-bit random, so a fast hash is enough), and can be revoked or expire. Lookup is by hash, in constant time
 * with respect to the token's content.
 */
import "server-only";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { apiTokens, groupMembers, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { badRequest, conflict, notFound } from "@/server/errors";
import { storeCache } from "@/server/store-cache";
import type { Principal } from "./principal";
import { type CreateServiceAccountInput, createServiceAccountSchema } from "./schema";
import { findGroupsByName } from "./store";
import { loadPrincipal } from "./users";

const TOKEN_PREFIX = "ptc_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

const serviceEmail = (name: string) => `${name}@service.portcullis`;

export async function createServiceAccount(actor: Actor, input: CreateServiceAccountInput) {
  const data = createServiceAccountSchema.parse(input);
  const db = await getDb();
  const [existing] = await db
    .select()
    .from(users)
    .where(eq(users.email, serviceEmail(data.name)));
  if (existing) throw conflict(`a service account named ${data.name} already exists`);
  const found = await findGroupsByName(db, data.groups);
  const missing = data.groups.filter((n) => !found.some((g) => g.name === n));
  if (missing.length > 0) throw badRequest(`unknown group: ${missing.join(", ")}`);
  const id = randomUUID();
  await db.insert(users).values({
    id,
    email: serviceEmail(data.name),
    name: data.name,
    kind: "service",
    authSource: "service",
    role: "member",
  });
  if (found.length > 0)
    await db.insert(groupMembers).values(found.map((g) => ({ groupId: g.id, userId: id })));
  await recordAuditEvent(actor, "service_account.create", data.name, { groups: data.groups });
  const token = await issueToken(actor, id, data.tokenName, data.expiresInDays);
  return { id, name: data.name, ...token };
}

export async function issueToken(
  actor: Actor,
  serviceAccountId: string,
  name: string,
  expiresInDays?: number,
) {
  const db = await getDb();
  const [account] = await db.select().from(users).where(eq(users.id, serviceAccountId));
  if (account?.kind !== "service") throw notFound("no such service account");
  const token = newToken();
  const id = randomUUID();
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  await db.insert(apiTokens).values({
    id,
    userId: serviceAccountId,
    name,
    tokenHash: hashToken(token),
    prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    expiresAt,
  });
  await recordAuditEvent(actor, "token.create", account.name, { tokenId: id, name, expiresAt });
  return { tokenId: id, token, expiresAt };
}

export async function revokeToken(actor: Actor, tokenId: string) {
  const db = await getDb();
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, tokenId));
  if (!row) throw notFound("no such token");
  await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)));
  await recordAuditEvent(actor, "token.revoke", row.prefix, { tokenId });
}

export async function listServiceAccountTokens() {
  const db = await getDb();
  return db
    .select({
      id: apiTokens.id,
      userId: apiTokens.userId,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      createdAt: apiTokens.createdAt,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(asc(apiTokens.createdAt));
}

interface TokenRecord {
  id: string;
  expiresAt: Date | null;
  /** when last use was last written (advisory; kept in memory between writes) */
  lastUsedAt: Date | null;
  principal: Principal | null;
}

/** Known tokens by hash, with their principal; cleared on every change (server/store-cache.ts). */
const tokenCache = storeCache<TokenRecord | null>("tokens");

async function loadTokenRecord(tokenHash: string): Promise<TokenRecord | null> {
  const db = await getDb();
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
  if (!row || row.revokedAt) return null;
  const principal = await loadPrincipal(row.userId, "token", row.id);
  return {
    id: row.id,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    principal: principal && deepFreeze(principal),
  };
}

function deepFreeze(principal: Principal): Principal {
  for (const g of principal.groups) Object.freeze(g);
  Object.freeze(principal.groups);
  return Object.freeze(principal);
}

/** Resolves a bearer token to its service account; null for unknown, revoked or expired tokens. */
export async function principalFromToken(token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const tokenHash = hashToken(token);
  const record = await tokenCache.get(tokenHash, () => loadTokenRecord(tokenHash));
  if (!record?.principal || (record.expiresAt && record.expiresAt.getTime() <= Date.now())) return null;
  // Last use is advisory: at most one write a minute per token, off the request's path.
  if (!record.lastUsedAt || Date.now() - record.lastUsedAt.getTime() > 60_000) {
    record.lastUsedAt = new Date();
    void getDb()
      .then((db) =>
        db.update(apiTokens).set({ lastUsedAt: record.lastUsedAt }).where(eq(apiTokens.id, record.id)),
      )
      .catch((err) => console.error("[portcullis] could not note a token's last use:", err));
  }
  return record.principal;
}
