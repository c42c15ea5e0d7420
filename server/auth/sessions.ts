/**
 * Console sessions that end: a session cookie is a signed JWT that carries the person's session epoch from
 * when they signed in. Raising the epoch (sign-out, "sign out everywhere", a password, role or disable change)
 * makes every cookie issued before it worthless on the next request, on every replica: the principal cache
 * is cleared on every audited change (server/store-cache.ts, NOTIFY across replicas). Deleting the person
 * removes the row, which ends them too.
 * Not responsible for reading cookies (authenticate.ts) or for the sign-in flow (next-auth.ts).
 */
import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { badRequest, notFound } from "@/server/errors";
import { invalidateStoreCaches } from "@/server/store-cache";
import { findUserById } from "./store";

/** The epoch to put in a new session's token. */
export async function currentSessionEpoch(userId: string): Promise<number> {
  const user = await findUserById(await getDb(), userId);
  return user?.sessionEpoch ?? 0;
}

/** Raises the person's epoch; with `from`, only when it is still that one (an older session cannot end newer ones). */
async function raiseEpoch(userId: string, from?: number): Promise<boolean> {
  const db = await getDb();
  const rows = await db
    .update(users)
    .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
    .where(and(eq(users.id, userId), from === undefined ? undefined : eq(users.sessionEpoch, from)))
    .returning({ id: users.id });
  return rows.length > 0;
}

/** "Sign out everywhere": ends every console session of the person (`actor` is themselves or an admin). */
export async function endSessions(actor: Actor, userId: string): Promise<void> {
  const user = await findUserById(await getDb(), userId);
  if (!user) throw notFound("no such user");
  if (user.kind !== "person")
    throw badRequest("a service account has tokens, not sessions: revoke its tokens");
  await raiseEpoch(userId);
  await recordAuditEvent(actor, "user.sessions_ended", user.email);
}

/**
 * Sign-out: every session of the person ends with this one (next-auth's signOut event audits it). A cookie
 * that had already ended (say, a stolen one) signs nobody out.
 */
export async function endSessionsOnSignOut(userId: string, epoch: unknown): Promise<void> {
  if (typeof epoch !== "number") return;
  if (await raiseEpoch(userId, epoch)) await invalidateStoreCaches();
}
