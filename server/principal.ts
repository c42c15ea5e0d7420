/**
 * Who is calling, and what they may do. A principal is a person (console session) or a service account
 * (bearer token); both resolve to the same shape so every stage after identification treats them alike.
 */
import "server-only";

export type Role = "admin" | "member";

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
  member: ["connections:use"],
};

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

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

export function permissionsOf(role: Role): readonly Permission[] {
  return ROLE_PERMISSIONS[role];
}

export function hasPermission(
  principal: Pick<Principal, "role" | "scopes">,
  permission: Permission,
): boolean {
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
