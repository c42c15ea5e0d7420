/**
 * Who a native client is and whether it may use the connection it names: `user` (a service account's name or a
 * person's email), the password (an API token of that principal, checked by server/auth like a bearer token),
 * or, for a person, a database credential checked with SCRAM (pg-listener.ts, scram.ts), and `dbname` (a
 * connection's name). Refusals carry the SQLSTATE PostgreSQL would use: 28P01 wrong credential,
 * 28000 not allowed, 3D000 no such database. Failed passwords are limited per address and per user name.
 * Not responsible for the protocol (pg-listener.ts) or for what the client may run once in (the pipeline).
 */
import "server-only";
import { loadPrincipal, principalFromToken } from "@/server/auth";
import { type ConnectionView, connectionIdByName, getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { createRateLimiter } from "@/server/http/rate-limit";
import { hasPermission, type Principal } from "@/server/principal";
import { processSingleton } from "@/server/singleton";
import { storeCache } from "@/server/store-cache";

export interface NativeRefusal {
  code: "28P01" | "28000" | "3D000";
  message: string;
}

export type NativeAuthResult =
  | { ok: true; principal: Principal; connection: ConnectionView }
  | { ok: false; refusal: NativeRefusal };

/** Failed passwords allowed per minute for one client address, and for one user name. */
export const FAILED_PASSWORDS_PER_MINUTE = 10;

const failures = processSingleton("nativeAuthFailures", () => ({
  byAddress: createRateLimiter(FAILED_PASSWORDS_PER_MINUTE),
  byUser: createRateLimiter(FAILED_PASSWORDS_PER_MINUTE),
}));

const refuse = (code: NativeRefusal["code"], message: string): NativeAuthResult => ({
  ok: false,
  refusal: { code, message },
});

const people = storeCache<Principal | null>("nativePeople");

/**
 * A person as they are now (groups, role; null once disabled or deleted), through a request cache that every
 * audited change clears: asked before each statement and at each recheck of a client with a database credential.
 */
export function personNow(userId: string): Promise<Principal | null> {
  return people.get(userId, () => loadPrincipal(userId, "token"));
}

/** Is `user` this principal's name as a native client gives it? */
export function namesPrincipal(user: string, principal: Principal): boolean {
  const wanted = user.trim().toLowerCase();
  if (principal.kind === "service") {
    return wanted === principal.name.toLowerCase() || wanted === principal.email.toLowerCase();
  }
  return wanted === principal.email.toLowerCase();
}

/** A refusal while this address or user name has had too many failed passwords, else undefined. */
export function failureLimitRefusal(user: string, address: string): NativeRefusal | undefined {
  const limited = [
    failures.byAddress.peek(`address:${address}`),
    failures.byUser.peek(`user:${user.trim().toLowerCase()}`),
  ].find((d) => !d.allowed);
  if (!limited) return undefined;
  return {
    code: "28000",
    message: `too many failed passwords from this address or for this user; try again in ${limited.retryAfterSeconds} s`,
  };
}

/** Counts one failed password against the address and the user name. */
export function noteFailedPassword(user: string, address: string) {
  failures.byAddress.take(`address:${address}`);
  failures.byUser.take(`user:${user.trim().toLowerCase()}`);
}

/**
 * Does this user name authenticate with SCRAM (a person's email: their database credentials) rather than a
 * cleartext API token (a service account's name or service email)?
 */
export function usesScram(user: string): boolean {
  const name = user.trim().toLowerCase();
  return name.includes("@") && !name.endsWith(SERVICE_EMAIL_DOMAIN);
}
const SERVICE_EMAIL_DOMAIN = "@service.portcullis";

export async function authenticateNative(input: {
  user: string;
  password: string;
  database: string | undefined;
  address: string;
}): Promise<NativeAuthResult> {
  const limited = failureLimitRefusal(input.user, input.address);
  if (limited) return { ok: false, refusal: limited };
  const principal = await principalFromToken(input.password);
  if (!principal || !namesPrincipal(input.user, principal)) {
    noteFailedPassword(input.user, input.address);
    return refuse(
      "28P01",
      `password authentication failed for user "${input.user}" (the password is an API token of that user)`,
    );
  }
  return admitToConnection(principal, input.user, input.database);
}

/**
 * An authenticated principal and the connection its client names: 28000 without `connections:use` or for a
 * connection it may not use, 3D000 for no such connection (or an SSH one).
 */
export async function admitToConnection(
  principal: Principal,
  user: string,
  database: string | undefined,
): Promise<NativeAuthResult> {
  if (!hasPermission(principal, "connections:use")) {
    return refuse("28000", `${user} may not use connections`);
  }
  const name = database?.trim() ?? "";
  if (name === "") return refuse("3D000", "dbname must name a Portcullis connection");
  try {
    const connection = await getConnectionForUse(principal, name);
    if (connection.kind !== "postgres") {
      return refuse("3D000", `connection "${name}" is an SSH connection, not a database`);
    }
    return { ok: true, principal, connection };
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    if (err.code === "forbidden") return refuse("28000", err.message);
    if (err.code !== "not_found") throw err;
  }
  // Not usable by this principal: tell apart a connection that is not there from one they may not use.
  const exists = await connectionIdByName(name).then(
    () => true,
    (err) => {
      if (err instanceof GatewayError && err.code === "bad_request") return false;
      throw err;
    },
  );
  return exists
    ? refuse("28000", `${user} may not use connection "${name}"`)
    : refuse("3D000", `no connection named "${name}"`);
}
