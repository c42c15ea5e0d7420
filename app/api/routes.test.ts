// Every API route goes through the one wrapper (withAuth) that identifies and authorizes the caller; only the
// routes listed here may use withoutAuth. The end-to-end route walk checks the same thing over HTTP.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const PUBLIC_ROUTES = new Set([
  "setup",
  "health",
  "v1/openapi.json",
  "v1/oauth/token",
  "auth/saml/login",
  "auth/saml/metadata",
]);
/**
 * SAML's assertion consumer service takes a form posted from the identity provider's origin: its own wrapper
 * (withIdentityProviderForm) reads it bounded and by schema, and the signed assertion inside is the credential.
 */
const SAML_ANSWER_ROUTE = "auth/saml/acs";
/**
 * The OAuth token endpoint is public because the client secret in the request is the credential; it must stay a
 * one-line hand-off to handleTokenRequest (which checks the secret and rate limits failures) and POST only.
 */
const TOKEN_ENDPOINT = "v1/oauth/token";
const apiDir = path.resolve(import.meta.dirname);

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? routeFiles(full) : e.name === "route.ts" ? [full] : [];
  });
}

describe("API route handlers", () => {
  const files = routeFiles(apiDir).filter((f) => !f.includes(`${path.sep}auth${path.sep}[...nextauth]`));

  it.each(files.map((f) => [path.relative(apiDir, f), f]))("%s wraps every method", (_name, file) => {
    const text = readFileSync(file, "utf8");
    const exported = [...text.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\s*=\s*(\w+)\(/g)];
    expect(exported.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/export (async )?function (GET|POST|PUT|PATCH|DELETE)/);
    const route = path.relative(apiDir, path.dirname(file));
    for (const [, method, wrapper] of exported) {
      const allowed = PUBLIC_ROUTES.has(route)
        ? ["withoutAuth"]
        : route === SAML_ANSWER_ROUTE
          ? ["withIdentityProviderForm"]
          : ["withAuth"];
      expect(allowed, `${method} ${route}`).toContain(wrapper);
    }
    if (route === SAML_ANSWER_ROUTE) {
      expect(exported.map(([, method]) => method)).toEqual(["POST"]);
      expect(text).toContain("handleSamlAnswer(request, body)");
    }
    if (route === TOKEN_ENDPOINT) {
      expect(exported.map(([, method]) => method)).toEqual(["POST"]);
      expect(text).toContain("withoutAuth({}, async ({ request }) => handleTokenRequest(request))");
    }
    // Route handlers never reach the store or a target driver directly.
    expect(text).not.toMatch(/from "(drizzle-orm|postgres|ssh2|@\/db\/)/);
  });
});
