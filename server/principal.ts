/**
 * Who is calling, and what they may do. A principal is a person (console session) or a service account
 * (bearer token); both resolve to the same shape so every stage after identification treats them alike.
 */
import "server-only";

export type Role = "admin" | "auditor" | "member";

export type Permission =
  | "connections:use"
  | "connections:manage"
  | "users:manage"
  | "tokens:manage"
  | "policies:manage"
  | "audit:read";

const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: [
    "connections:use",
    "connections:manage",
    "users:manage",
    "tokens:manage",
    "policies:manage",
    "audit:read",
  ],
  /** reads the audit log, every session and access reviews; runs nothing, changes nothing */
  auditor: ["audit:read"],
  member: ["connections:use"],
};

/** Roles a service account can hold; people are admins or members. */
export const SERVICE_ACCOUNT_ROLES = ["member", "auditor", "admin"] as const satisfies readonly Role[];

/**
 * A role that can change who may do what (users, tokens, policies, connections): creating or raising such an
 * account is audited, and its credentials must expire (server/auth/service-accounts.ts).
 */
export function isAdminCapable(role: Role): boolean {
  return ROLE_PERMISSIONS[role].some((p) => p !== "audit:read" && p !== "connections:use");
}

export interface Principal {
  id: string;
  email: string;
  name: string;
  role: Role;
  kind: "person" | "service";
  groups: { id: string; name: string }[];
  via: "session" | "token";
  tokenId?: string;
  /** set when the token was minted with a client secret (OAuth 2.0 client credentials) */
  clientSecretId?: string;
  /** an access token narrowed by OAuth scope holds only these of its role's permissions */
  scopes?: readonly Permission[];
}

export const PERMISSIONS: readonly Permission[] = ROLE_PERMISSIONS.admin;

/**
 * Reads open to a member (their own sessions and reviews) and to an auditor (everyone's): sessions, their
 * replays and evidence, access reviews. The service behind each narrows what a member sees.
 */
export const MEMBER_OR_AUDITOR_READ = [
  "connections:use",
  "audit:read",
] as const satisfies readonly Permission[];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export function permissionsOf(role: Role): readonly Permission[] {
  return ROLE_PERMISSIONS[role];
}

/** The longest an admin-capable service account's token or client secret may live (schema.ts says the same). */
export const ADMIN_CREDENTIAL_MAX_DAYS = 90;

/** Why a credential of this lifetime may not be issued to an account of this role, or null when it may. */
export function credentialLifetimeProblem(role: Role, expiresInDays: number | undefined): string | null {
  if (!isAdminCapable(role)) return null;
  if (expiresInDays !== undefined && expiresInDays <= ADMIN_CREDENTIAL_MAX_DAYS) return null;
  return `an admin service account's credentials must expire: give expiresInDays (at most ${ADMIN_CREDENTIAL_MAX_DAYS})`;
}

/**
 * Whether a credential that expires at `expiresAt` (null: never) may act for an account of this role: an
 * admin-capable account's must end within the longest lifetime from now (a day's slack for clocks), whatever
 * wrote it (a raise caps them; a row edited by hand is refused).
 */
export function isCredentialLifetimeAllowed(role: Role, expiresAt: Date | null, now = Date.now()): boolean {
  if (!isAdminCapable(role)) return true;
  return expiresAt !== null && expiresAt.getTime() - now <= (ADMIN_CREDENTIAL_MAX_DAYS + 1) * 86_400_000;
}

/** When a credential issued now for an account of this role ends, at the latest (null: no limit). */
export function latestCredentialExpiry(role: Role, now = Date.now()): Date | null {
  return isAdminCapable(role) ? new Date(now + ADMIN_CREDENTIAL_MAX_DAYS * 86_400_000) : null;
}

/** "audit:read", or "connections:use or audit:read" for a route open to either. */
export function permissionText(permission: Permission | readonly Permission[]): string {
  return typeof permission === "string" ? permission : permission.join(" or ");
}

/** Whether the principal holds the permission, or, given several, any one of them. */
export function hasPermission(
  principal: Pick<Principal, "role" | "scopes">,
  permission: Permission | readonly Permission[],
): boolean {
  if (typeof permission !== "string") return permission.some((p) => hasPermission(principal, p));
  return (
    ROLE_PERMISSIONS[principal.role].includes(permission) &&
    (principal.scopes === undefined || principal.scopes.includes(permission))
  );
}

/** The rate-limit bucket of a token caller: tokens minted from one client secret share its bucket. */
export function rateLimitKey(principal: Principal): string {
  if (principal.clientSecretId) return `client-secret:${principal.clientSecretId}`;
  return `token:${principal.tokenId ?? principal.id}`;
}

export function actorOf(principal: Principal) {
  return {
    id: principal.id,
    label: principal.kind === "service" ? `service:${principal.name}` : principal.email,
  };
}
