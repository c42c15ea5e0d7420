/**
 * The audit log: who changed what (sign-ins, users, groups, connections, tokens). Append-only.
 * Session recording of target traffic is a separate concern (server/recording).
 */
import "server-only";
import { desc } from "drizzle-orm";
import { auditEvents } from "@/db/schema";
import { getDb } from "@/db/store";
import { invalidateStoreCaches } from "@/server/store-cache";

export interface Actor {
  id: string | null;
  label: string;
}

export const SYSTEM_ACTOR: Actor = { id: null, label: "system" };

export async function recordAuditEvent(
  actor: Actor,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  const db = await getDb();
  await db
    .insert(auditEvents)
    .values({ actorId: actor.id, actorLabel: actor.label, action, target, details });
  // Every audited change is a change to who may do what (users, groups, tokens, connections, rules, masking,
  // grants): the request caches (server/store-cache.ts) must not serve what it replaced.
  await invalidateStoreCaches();
}

export async function listAuditEvents(limit = 200) {
  const db = await getDb();
  return db.select().from(auditEvents).orderBy(desc(auditEvents.id)).limit(limit);
}
