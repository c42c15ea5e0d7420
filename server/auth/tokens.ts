/**
 * Service accounts and their API tokens. A token is shown once at creation, stored as its SHA-256 (tokens are
 * 256-bit random, so a fast hash is enough), and can be revoked, expire or be rotated (with an optional grace
 * period for the old one). Lookup is by hash, in constant time with respect to the token's content. Short-lived
 * access tokens minted from a client secret (client-secrets.ts) live in the same table and resolve here too.
 */
import "server-only";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { apiTokens, clientSecrets, groupMembers, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { badRequest, conflict, notFound } from "@/server/errors";
import {
  credentialLifetimeProblem,
  isAdminCapable,
  isCredentialLifetimeAllowed,
  isPermission,
  latestCredentialExpiry,
  type Principal,
} from "@/server/principal";
import { storeCache } from "@/server/store-cache";
import { type CreateServiceAccountInput, createServiceAccountSchema } from "./schema";
import { assertMayGrant, type Grantor } from "./service-accounts";
import { findGroupsByName } from "./store";
import { loadPrincipal } from "./users";

const TOKEN_PREFIX = "ptc_";
/** access tokens minted with a client secret */
export const ACCESS_TOKEN_PREFIX = "pta_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A 256-bit random secret with a recognisable prefix, and the start of it shown in lists. */
export function newSecret(prefix: string): { secret: string; hash: string; shown: string } {
  const secret = prefix + randomBytes(32).toString("base64url");
  return { secret, hash: hashToken(secret), shown: secret.slice(0, prefix.length + 6) };
}

const isExpired = (at: Date | null, now = Date.now()) => at !== null && at.getTime() <= now;

const serviceEmail = (name: string) => `${name}@service.portcullis`;

/** A new service account with its first token; `grantor` must hold every permission of the role it gives. */
export async function createServiceAccount(
  actor: Actor,
  input: CreateServiceAccountInput,
  grantor?: Grantor,
) {
  const data = createServiceAccountSchema.parse(input);
  // Only the system actor (setup, command line, tests) may give a role without showing its own permissions.
  assertMayGrant(grantor ?? (actor.id === null ? "system" : { role: "member" }), data.role);
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
    role: data.role,
  });
  if (found.length > 0)
    await db.insert(groupMembers).values(found.map((g) => ({ groupId: g.id, userId: id })));
  await recordAuditEvent(actor, "service_account.create", data.name, {
    groups: data.groups,
    role: data.role,
    ...(isAdminCapable(data.role) && { adminCapable: true }),
  });
  const token = await issueToken(actor, id, data.tokenName, data.expiresInDays);
  return { id, name: data.name, ...token };
}

export async function issueToken(
  actor: Actor,
  serviceAccountId: string,
  name: string,
  expiresInDays?: number,
) {
  const account = await findServiceAccount(serviceAccountId);
  const problem = credentialLifetimeProblem(account.role, expiresInDays);
  if (problem) throw badRequest(problem);
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  const issued = await insertToken(serviceAccountId, name, expiresAt);
  await recordAuditEvent(actor, "token.create", account.name, { tokenId: issued.tokenId, name, expiresAt });
  return issued;
}

export async function findServiceAccount(serviceAccountId: string) {
  const db = await getDb();
  const [account] = await db.select().from(users).where(eq(users.id, serviceAccountId));
  if (account?.kind !== "service") throw notFound("no such service account");
  return account;
}

async function insertToken(userId: string, name: string, expiresAt: Date | null) {
  const db = await getDb();
  const { secret, hash, shown } = newSecret(TOKEN_PREFIX);
  const id = randomUUID();
  await db.insert(apiTokens).values({ id, userId, name, tokenHash: hash, prefix: shown, expiresAt });
  return { tokenId: id, token: secret, expiresAt };
}

/**
 * Replaces a token with a new one (shown once, same name, same lifetime). The old token is revoked now, or keeps
 * working for `graceSeconds` so that callers can switch over without an outage.
 */
export async function rotateToken(
  actor: Actor,
  serviceAccountId: string,
  tokenId: string,
  graceSeconds: number,
) {
  const account = await findServiceAccount(serviceAccountId);
  const db = await getDb();
  const [old] = await db
    .select()
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.id, tokenId),
        eq(apiTokens.userId, serviceAccountId),
        isNull(apiTokens.clientSecretId),
      ),
    );
  if (!old) throw notFound("no such token for this service account");
  if (old.revokedAt || isExpired(old.expiresAt)) {
    throw conflict("this token is already revoked or expired; issue a new one instead");
  }
  const now = Date.now();
  const lifetime = old.expiresAt ? old.expiresAt.getTime() - old.createdAt.getTime() : null;
  // An admin-capable account's new token ends within the longest lifetime, whatever the old one had.
  const latest = latestCredentialExpiry(account.role, now);
  const wanted = lifetime === null ? null : new Date(now + lifetime);
  const issued = await insertToken(
    serviceAccountId,
    old.name,
    latest && (wanted === null || wanted > latest) ? latest : wanted,
  );
  const graceEnds = new Date(now + graceSeconds * 1000);
  await db
    .update(apiTokens)
    .set(
      graceSeconds === 0
        ? { revokedAt: new Date(now) }
        : { expiresAt: old.expiresAt && old.expiresAt < graceEnds ? old.expiresAt : graceEnds },
    )
    .where(eq(apiTokens.id, old.id));
  await recordAuditEvent(actor, "token.rotate", account.name, {
    tokenId: old.id,
    newTokenId: issued.tokenId,
    graceSeconds,
  });
  return {
    ...issued,
    previous: {
      tokenId: old.id,
      ...(graceSeconds === 0
        ? { revokedAt: new Date(now).toISOString() }
        : { worksUntil: graceEnds.toISOString() }),
    },
  };
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

/** The columns lists show of a credential (token or client secret): never its hash. */
export function listedColumns<T extends typeof apiTokens | typeof clientSecrets>(t: T) {
  const { id, userId, name, prefix, createdAt, expiresAt, lastUsedAt, revokedAt } = t;
  return { id, userId, name, prefix, createdAt, expiresAt, lastUsedAt, revokedAt };
}

export async function listServiceAccountTokens() {
  const db = await getDb();
  return db
    .select(listedColumns(apiTokens))
    .from(apiTokens)
    .where(isNull(apiTokens.clientSecretId))
    .orderBy(asc(apiTokens.createdAt));
}

interface TokenRecord {
  id: string;
  expiresAt: Date | null;
  /** for access tokens: when their client secret expires */
  secretExpiresAt: Date | null;
  /** when last use was last written (advisory; kept in memory between writes) */
  lastUsedAt: Date | null;
  principal: Principal | null;
}

/** Known tokens by hash, with their principal; cleared on every change (server/store-cache.ts). */
const tokenCache = storeCache<TokenRecord | null>("tokens");

async function loadTokenRecord(tokenHash: string): Promise<TokenRecord | null> {
  const db = await getDb();
  const [found] = await db
    .select({
      token: apiTokens,
      secretRevokedAt: clientSecrets.revokedAt,
      secretExpiresAt: clientSecrets.expiresAt,
    })
    .from(apiTokens)
    .leftJoin(clientSecrets, eq(clientSecrets.id, apiTokens.clientSecretId))
    .where(eq(apiTokens.tokenHash, tokenHash));
  const row = found?.token;
  if (!found || !row || row.revokedAt) return null;
  if (row.clientSecretId && found.secretRevokedAt) return null;
  const loaded = await loadPrincipal(row.userId, "token", row.id);
  // An admin-capable account acts only through credentials that expire (fail closed on a row that does not).
  const credentialExpiry = row.clientSecretId ? found.secretExpiresAt : row.expiresAt;
  if (loaded && !isCredentialLifetimeAllowed(loaded.role, credentialExpiry)) return null;
  const principal: Principal | null = loaded && {
    ...loaded,
    ...(row.clientSecretId && { clientSecretId: row.clientSecretId }),
    ...(row.scopes && { scopes: row.scopes.filter(isPermission) }),
  };
  return {
    id: row.id,
    expiresAt: row.expiresAt,
    secretExpiresAt: row.clientSecretId ? found.secretExpiresAt : null,
    lastUsedAt: row.lastUsedAt,
    principal: principal && deepFreeze(principal),
  };
}

function deepFreeze(principal: Principal): Principal {
  for (const g of principal.groups) Object.freeze(g);
  Object.freeze(principal.groups);
  if (principal.scopes) Object.freeze(principal.scopes);
  return Object.freeze(principal);
}

/**
 * Resolves a bearer token to its service account; null for unknown, revoked or expired tokens, and for access
 * tokens whose client secret was revoked or has expired.
 */
export async function principalFromToken(token: string): Promise<Principal | null> {
  const tokenHash = tokenHashOf(token);
  return tokenHash === null ? null : principalFromTokenHash(tokenHash);
}

/**
 * The hash a token is looked up by, or null when the text cannot be a token. A caller that checks the same token
 * again and again (a native client's connection, before every statement) hashes it once and keeps only the hash.
 */
export function tokenHashOf(token: string): string | null {
  if (!(token.startsWith(TOKEN_PREFIX) || token.startsWith(ACCESS_TOKEN_PREFIX)) || token.length > 200)
    return null;
  return hashToken(token);
}

/** principalFromToken for a token already hashed (tokenHashOf): the same look-up, expiry and last-use note. */
export async function principalFromTokenHash(tokenHash: string): Promise<Principal | null> {
  const record = await tokenCache.get(tokenHash, () => loadTokenRecord(tokenHash));
  if (!record?.principal || isExpired(record.expiresAt) || isExpired(record.secretExpiresAt)) return null;
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
