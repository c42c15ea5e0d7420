/**
 * Refuses cross-site requests that ride on a person's session cookie. A browser attaches the cookie to a form
 * posted from any page of the same site (SameSite=Lax lets same-site origins through), so a state-changing
 * request from a cookie caller must come from the console's own pages:
 *   - a browser says where a request comes from: its Origin must be PUBLIC_URL's origin, or without an Origin,
 *     Sec-Fetch-Site must say same-origin. A client that sends neither is not a browser (scripts, test clients
 *     holding a cookie): no page can make a browser send a request without both, so it passes this part;
 *   - a POST must be typed JSON, even with an empty body: POST is the one unsafe method an HTML form can send,
 *     and a form cannot send JSON; a script on another origin cannot send it without a CORS preflight, which
 *     the console never grants. PUT, PATCH and DELETE need that preflight whatever their type, and their
 *     bodies, when they have one, are parsed as JSON only (withAuth).
 * Bearer-token callers are not browsers riding on ambient credentials: this module does not apply to them.
 * Not responsible for authentication (server/auth) or for the sign-in forms' own CSRF token (next-auth).
 */
import "server-only";
import { getConfig } from "@/server/config";
import { GatewayError } from "@/server/errors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const JSON_TYPE = /^application\/(.+\+)?json\s*(;|$)/i;

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** The console's own origin, as browsers write it in the Origin header. */
export function consoleOrigin(): string {
  return new URL(getConfig().publicUrl).origin;
}

/**
 * Why a request from a browser is not from the console's own pages, or undefined when it is (or when it carries
 * no browser marks at all: neither Origin nor Sec-Fetch-Site).
 */
export function foreignOriginReason(headers: Headers, expected?: string): string | undefined {
  const origin = headers.get("origin");
  if (origin !== null) {
    expected ??= consoleOrigin();
    if (origin === expected) return undefined;
    return `this request comes from ${origin.slice(0, 200)}, not from the console (${expected}): cross-site requests are refused (if people reach the console at that address, set PUBLIC_URL to it)`;
  }
  const site = headers.get("sec-fetch-site");
  if (site === null || site === "same-origin") return undefined;
  return `this request comes from another site (Sec-Fetch-Site: ${site.slice(0, 40)}), not from the console: cross-site requests are refused`;
}

/**
 * Throws for a state-changing request by a cookie caller that does not come from the console's pages, or a POST
 * that is not typed JSON (even with an empty body). Safe methods pass.
 */
export function refuseCrossSiteCookieRequest(request: Request): void {
  if (!isUnsafeMethod(request.method)) return;
  const reason = foreignOriginReason(request.headers);
  if (reason) throw new GatewayError("cross_site", reason);
  if (request.method.toUpperCase() === "POST" && !JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
    throw new GatewayError(
      "unsupported_media_type",
      "a signed-in POST must be sent with Content-Type: application/json, even with an empty body",
    );
  }
}

/** For routes anyone may call (first-run setup, the token endpoint, sign-in): a browser on another origin is refused. */
export function refuseForeignBrowserRequest(request: Request): void {
  if (!isUnsafeMethod(request.method)) return;
  const reason = foreignOriginReason(request.headers);
  if (reason) throw new GatewayError("cross_site", reason);
}
