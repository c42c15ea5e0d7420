/**
 * Who a native client is and whether it may use the connection it names: `user` (a service account's name or a
 * person's email), the password (an API token of that principal, checked by server/auth like a bearer token),
 * and `dbname` (a connection's name). Refusals carry the SQLSTATE PostgreSQL would use: 28P01 wrong credential,
 * 28000 not allowed, 3D000 no such database. Failed passwords are limited per address and per user name.
 * Not responsible for the protocol (pg-listener.ts) or for what the client may run once in (the pipeline).
 */
import "server-only";
import { hasPermission, type Principal, principalFromToken } from "@/server/auth";
import { type ConnectionView, connectionIdByName, getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import { createRateLimiter } from "@/server/http/rate-limit";
import { processSingleton } from "@/server/singleton";

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

/** Is `user` this principal's name as a native client gives it? */
export function namesPrincipal(user: string, principal: Principal): boolean {
  const wanted = user.trim().toLowerCase();
  if (principal.kind === "service") {
    return wanted === principal.name.toLowerCase() || wanted === principal.email.toLowerCase();
  }
  return wanted === principal.email.toLowerCase();
}

export async function authenticateNative(input: {
  user: string;
  password: string;
  database: string | undefined;
  address: string;
}): Promise<NativeAuthResult> {
  const addressKey = `address:${input.address}`;
  const userKey = `user:${input.user.trim().toLowerCase()}`;
  const limited = [failures.byAddress.peek(addressKey), failures.byUser.peek(userKey)].find(
    (d) => !d.allowed,
  );
  if (limited) {
    return refuse(
      "28000",
      `too many failed passwords from this address or for this user; try again in ${limited.retryAfterSeconds} s`,
    );
  }
  const principal = await principalFromToken(input.password);
  if (!principal || !namesPrincipal(input.user, principal)) {
    failures.byAddress.take(addressKey);
    failures.byUser.take(userKey);
    return refuse(
      "28P01",
      `password authentication failed for user "${input.user}" (the password is an API token of that user)`,
    );
  }
  if (!hasPermission(principal, "connections:use")) {
    return refuse("28000", `${input.user} may not use connections`);
  }
  const name = input.database?.trim() ?? "";
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
    ? refuse("28000", `${input.user} may not use connection "${name}"`)
    : refuse("3D000", `no connection named "${name}"`);
}
