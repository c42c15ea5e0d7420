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
}

export function hasPermission(principal: Pick<Principal, "role">, permission: Permission): boolean {
  return ROLE_PERMISSIONS[principal.role].includes(permission);
}

export function actorOf(principal: Principal) {
  return {
    id: principal.id,
    label: principal.kind === "service" ? `service:${principal.name}` : principal.email,
  };
}
