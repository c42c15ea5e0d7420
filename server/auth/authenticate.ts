/**
 * Identification: turns a request into a principal, from a bearer token (services and agents) or from the
 * console's session cookie (people). Returns null when neither identifies anyone.
 */
import "server-only";
import { getToken } from "next-auth/jwt";
import { getConfig } from "@/server/config";
import type { Principal } from "@/server/principal";
import { storeCache } from "@/server/store-cache";
import { principalFromToken } from "./tokens";
import { loadPrincipalWithEpoch } from "./users";

/**
 * Console sessions' principals and session epochs by user id; cleared on every change (server/store-cache.ts),
 * so an ended session (server/auth/sessions.ts) is refused on the next request on every replica.
 */
const sessionPrincipals = storeCache<{ principal: Principal; sessionEpoch: number } | null>(
  "sessionPrincipalsWithEpoch",
);

export async function principalFromRequest(request: Request): Promise<Principal | null> {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    return match?.[1] ? principalFromToken(match[1]) : null;
  }
  return principalFromCookieHeader(request.headers.get("cookie") ?? "");
}

/** Reads the next-auth session cookie from a raw Cookie header (also used for WebSocket upgrades). */
export async function principalFromCookieHeader(cookieHeader: string): Promise<Principal | null> {
  const config = getConfig();
  const cookieMap = Object.fromEntries(
    cookieHeader
      .split(";")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf("=");
        return at < 0 ? [part, ""] : [part.slice(0, at), decodeURIComponent(part.slice(at + 1))];
      }),
  );
  const jwt = await getToken({
    req: { headers: { cookie: cookieHeader }, cookies: cookieMap } as never,
    secret: config.authSecret,
    secureCookie: config.publicUrl.startsWith("https://"),
  });
  const uid = jwt && typeof jwt.uid === "string" ? jwt.uid : undefined;
  // A token without an epoch predates ending sessions: it is refused like an ended one.
  const epoch = jwt && typeof jwt.epoch === "number" ? jwt.epoch : undefined;
  if (!uid || epoch === undefined) return null;
  const session = await sessionPrincipals.get(uid, () => loadPrincipalWithEpoch(uid, "session"));
  return session && session.sessionEpoch === epoch ? session.principal : null;
}
