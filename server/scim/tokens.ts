/**
 * The bearer tokens an identity provider provisions with: an admin mints one (shown once, stored as SHA-256,
 * audited), lists them by prefix and last use, revokes them. A SCIM token opens /scim/v2 and nothing else (its
 * prefix is not one the API accepts), and an API token does not open /scim/v2.
 * Not responsible for what a SCIM call may do (resources.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { scimTokens } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { hashToken, newSecret } from "@/server/auth";
import { notFound } from "@/server/errors";

const SCIM_TOKEN_PREFIX = "pst_";

export const createScimTokenSchema = z.strictObject({
  name: z.string().trim().min(1, "a name is required").max(64).default("identity provider"),
});

export async function createScimToken(actor: Actor, input: z.input<typeof createScimTokenSchema>) {
  const { name } = createScimTokenSchema.parse(input);
  const { secret, hash, shown } = newSecret(SCIM_TOKEN_PREFIX);
  const id = randomUUID();
  const db = await getDb();
  await db.insert(scimTokens).values({ id, name, tokenHash: hash, prefix: shown, createdBy: actor.label });
  await recordAuditEvent(actor, "scim_token.create", name, { tokenId: id, prefix: shown });
  return { id, name, prefix: shown, token: secret };
}

export async function listScimTokens() {
  const db = await getDb();
  const rows = await db.select().from(scimTokens).orderBy(asc(scimTokens.createdAt));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  }));
}

export async function revokeScimToken(actor: Actor, id: string) {
  const db = await getDb();
  const [row] = await db.select().from(scimTokens).where(eq(scimTokens.id, id));
  if (!row) throw notFound("no such SCIM token");
  await db
    .update(scimTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(scimTokens.id, id), isNull(scimTokens.revokedAt)));
  await recordAuditEvent(actor, "scim_token.revoke", row.name, { tokenId: id, prefix: row.prefix });
}

/** The live SCIM token a bearer value is, as an audit actor; null for anything else. */
export async function scimActorFromToken(token: string): Promise<(Actor & { tokenId: string }) | null> {
  if (!token.startsWith(SCIM_TOKEN_PREFIX) || token.length > 200) return null;
  const db = await getDb();
  const [row] = await db
    .select()
    .from(scimTokens)
    .where(and(eq(scimTokens.tokenHash, hashToken(token)), isNull(scimTokens.revokedAt)));
  if (!row) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
    void db
      .update(scimTokens)
      .set({ lastUsedAt: new Date() })
      .where(eq(scimTokens.id, row.id))
      .catch((err: unknown) => console.error("[portcullis] could not note a SCIM token's last use:", err));
  }
  // The actor id is the token's (never a person's), so no "yourself" rule can mistake it for the person changed.
  return { id: `scim:${row.id}`, label: `scim:${row.name}`, tokenId: row.id };
}
