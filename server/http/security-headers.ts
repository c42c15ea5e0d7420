/**
 * The headers every reply of the console carries (pages, API, the data path, downloads), set by the custom
 * server before Next or the data-path dispatch writes anything:
 *   - Content-Security-Policy: no framing (`frame-ancestors 'none'`, against clickjacking), scripts, styles,
 *     fonts, workers and connections from the console's own origin only, no plugins, no <base> hijack, forms
 *     post only to the console. Scripts keep 'unsafe-inline' because Next's App Router writes its bootstrap
 *     and flight data as inline scripts; removing it needs a nonce per request, which would make every page
 *     dynamic and every script tag carry it (a later step). Styles keep it for Monaco, xterm and React's
 *     style attributes. Development mode (React's debugging tools) also allows eval.
 *   - X-Frame-Options: DENY for browsers that predate frame-ancestors; X-Content-Type-Options: nosniff;
 *     Referrer-Policy: same-origin (connection names and review ids in URLs never leave the console).
 * Not responsible for cookies (next-auth's options: server/auth/next-auth.ts) or for refusing requests.
 */
import "server-only";
import type { ServerResponse } from "node:http";

export function contentSecurityPolicy(options: { dev: boolean }): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${options.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(options: { dev: boolean }): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(options),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
  };
}

/** Sets the headers on a reply before anyone writes it (a handler may still replace one on purpose). */
export function applySecurityHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
