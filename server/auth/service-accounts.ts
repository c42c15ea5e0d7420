/**
 * Service accounts' roles: who may give one, and what a raise does. A role is granted only by someone who holds
 * every permission in it (an access token narrowed to tokens:manage cannot mint an admin); making an account
 * admin-capable is an audited admin action of its own, and caps every live credential of the account to the
 * longest lifetime an admin's may have (principal.ts), so a token issued "forever" as a member does not become an
 * admin's forever. Not responsible for issuing tokens (tokens.ts) nor for checking them (tokens.ts refuses an
 * admin-capable account's credential that does not expire, whatever wrote it).
 */
import "server-only";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { apiTokens, clientSecrets, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { forbidden, notFound } from "@/server/errors";
import {
  hasPermission,
  isAdminCapable,
  latestCredentialExpiry,
  type Principal,
  permissionsOf,
  type Role,
} from "@/server/principal";
import { findUserById } from "./store";

/** Who grants a role: a principal (its permissions, narrowed by scope), or the system (setup, command line). */
export type Grantor = Pick<Principal, "role" | "scopes"> | "system";

/**
 * Refuses (403 naming them) when the grantor lacks any permission of the role it would give. `member` is what
 * every service account was before roles, and stays open to whoever may manage tokens.
 */
export function assertMayGrant(grantor: Grantor, role: Role): void {
  if (grantor === "system" || role === "member") return;
  const missing = permissionsOf(role).filter((p) => !hasPermission(grantor, p));
  if (missing.length > 0) {
    throw forbidden(`giving the role ${role} needs every permission in it; missing ${missing.join(", ")}`);
  }
}

/**
 * Changes a service account's role. A raise to an admin-capable role caps the account's live tokens and client
 * secrets (and so the access tokens they mint) to expire within the admin lifetime; the reply says how many.
 */
export async function setServiceAccountRole(actor: Actor, grantor: Grantor, id: string, role: Role) {
  const db = await getDb();
  const account = await findUserById(db, id);
  if (account?.kind !== "service") throw notFound("no such service account");
  assertMayGrant(grantor, role);
  const from = account.role;
  let capped = 0;
  const latest = latestCredentialExpiry(role);
  if (latest) {
    const longer = (t: typeof apiTokens | typeof clientSecrets) =>
      and(eq(t.userId, id), isNull(t.revokedAt), or(isNull(t.expiresAt), gt(t.expiresAt, latest)));
    const tokens = await db
      .update(apiTokens)
      .set({ expiresAt: latest })
      .where(longer(apiTokens))
      .returning({ id: apiTokens.id });
    const secrets = await db
      .update(clientSecrets)
      .set({ expiresAt: latest })
      .where(longer(clientSecrets))
      .returning({ id: clientSecrets.id });
    capped = tokens.length + secrets.length;
  }
  await db.update(users).set({ role }).where(eq(users.id, id));
  await recordAuditEvent(actor, "service_account.role_change", account.name, {
    from,
    to: role,
    ...(isAdminCapable(role) && { adminCapable: true, credentialsCapped: capped }),
  });
  return { id, name: account.name, role, credentialsCapped: capped };
}
