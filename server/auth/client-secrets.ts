/**
 * OAuth 2.0 client credentials for service accounts (RFC 6749 §4.4). An admin creates client secrets (shown
 * once, stored as SHA-256, revocable, listed with last use); a program exchanges one for a short-lived access
 * token so the long-lived secret does not travel on every call. Access tokens are rows of api_tokens tied to
 * their secret: they expire by themselves and die with the secret (revoked or expired) or the account
 * (disabled or deleted). Not responsible for the HTTP shape of the token endpoint (oauth.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, asc, eq, isNull, lt } from "drizzle-orm";
import { apiTokens, clientSecrets } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { getSettings } from "@/server/config";
import { badRequest, notFound } from "@/server/errors";
import { credentialLifetimeProblem, isPermission, type Permission, permissionsOf } from "@/server/principal";
import { findUserById } from "./store";
import { ACCESS_TOKEN_PREFIX, findServiceAccount, hashToken, listedColumns, newSecret } from "./tokens";

const SECRET_PREFIX = "pcs_";

/** Seconds an access token lives: OAUTH_ACCESS_TOKEN_TTL_SECONDS, default 15 minutes, read on every mint. */
export function accessTokenLifetimeSeconds(): number {
  return getSettings().oauthAccessTokenTtlSeconds;
}

export async function createClientSecret(
  actor: Actor,
  serviceAccountId: string,
  name: string,
  expiresInDays?: number,
) {
  const account = await findServiceAccount(serviceAccountId);
  const problem = credentialLifetimeProblem(account.role, expiresInDays);
  if (problem) throw badRequest(problem);
  const db = await getDb();
  const { secret, hash, shown } = newSecret(SECRET_PREFIX);
  const id = randomUUID();
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  await db
    .insert(clientSecrets)
    .values({ id, userId: serviceAccountId, name, secretHash: hash, prefix: shown, expiresAt });
  await recordAuditEvent(actor, "client_secret.create", account.name, { secretId: id, name, expiresAt });
  return { secretId: id, clientId: serviceAccountId, clientSecret: secret, expiresAt };
}

/** Revokes a client secret; every access token minted with it stops working at once. */
export async function revokeClientSecret(actor: Actor, serviceAccountId: string, secretId: string) {
  const account = await findServiceAccount(serviceAccountId);
  const db = await getDb();
  const [row] = await db
    .select()
    .from(clientSecrets)
    .where(and(eq(clientSecrets.id, secretId), eq(clientSecrets.userId, serviceAccountId)));
  if (!row) throw notFound("no such client secret for this service account");
  await db
    .update(clientSecrets)
    .set({ revokedAt: new Date() })
    .where(and(eq(clientSecrets.id, secretId), isNull(clientSecrets.revokedAt)));
  await recordAuditEvent(actor, "client_secret.revoke", account.name, { secretId, prefix: row.prefix });
}

export async function listClientSecrets() {
  const db = await getDb();
  return db.select(listedColumns(clientSecrets)).from(clientSecrets).orderBy(asc(clientSecrets.createdAt));
}

/** Why a token request was refused, as RFC 6749 §5.2 names it. */
export class OAuthError extends Error {
  constructor(
    readonly error: "invalid_request" | "invalid_client" | "invalid_scope" | "unsupported_grant_type",
    message: string,
  ) {
    super(message);
  }
}

/** Scope is space-separated permissions; it may only narrow what the account's role allows. */
function narrowScopes(scope: string | undefined, allowed: readonly Permission[]): Permission[] | null {
  const requested = [...new Set((scope ?? "").split(" ").filter(Boolean))];
  if (requested.length === 0) return null;
  const refused = requested.filter((s) => !isPermission(s) || !allowed.includes(s));
  if (refused.length > 0) {
    throw new OAuthError(
      "invalid_scope",
      `not a permission of this client: ${refused.join(", ")} (it may ask for: ${allowed.join(", ")})`,
    );
  }
  return requested.filter(isPermission);
}

/**
 * Checks a client's id and secret and mints an access token. Every failure of the credentials reads the same
 * ("invalid_client"), whichever part was wrong.
 */
export async function mintAccessToken(clientId: string, clientSecret: string, scope: string | undefined) {
  const db = await getDb();
  const [secret] = clientSecret.startsWith(SECRET_PREFIX)
    ? await db
        .select()
        .from(clientSecrets)
        .where(eq(clientSecrets.secretHash, hashToken(clientSecret)))
    : [];
  const now = Date.now();
  const account = secret && secret.userId === clientId ? await findUserById(db, clientId) : undefined;
  if (
    !secret ||
    !account ||
    account.kind !== "service" ||
    account.disabled ||
    secret.revokedAt ||
    (secret.expiresAt && secret.expiresAt.getTime() <= now)
  ) {
    throw new OAuthError("invalid_client", "unknown client, or a wrong, revoked or expired client secret");
  }
  const scopes = narrowScopes(scope, permissionsOf(account.role));
  const lifetime = accessTokenLifetimeSeconds();
  const { secret: token, hash, shown } = newSecret(ACCESS_TOKEN_PREFIX);
  // Expired access tokens of this secret are of no use to anyone: drop them as new ones are minted.
  await db
    .delete(apiTokens)
    .where(and(eq(apiTokens.clientSecretId, secret.id), lt(apiTokens.expiresAt, new Date(now))));
  await db.insert(apiTokens).values({
    id: randomUUID(),
    userId: account.id,
    name: `oauth:${secret.name}`,
    tokenHash: hash,
    prefix: shown,
    expiresAt: new Date(now + lifetime * 1000),
    clientSecretId: secret.id,
    scopes,
  });
  await db
    .update(clientSecrets)
    .set({ lastUsedAt: new Date(now) })
    .where(eq(clientSecrets.id, secret.id));
  return {
    access_token: token,
    token_type: "Bearer" as const,
    expires_in: lifetime,
    ...(scopes && { scope: scopes.join(" ") }),
  };
}
