// The SCIM route is authenticated by a SCIM token inside handleScimRequest rather than by withAuth (app/api's
// route walk does not reach it): each method must stay a hand-off to that one function, with no store, driver or
// other server module of its own.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const file = path.join(import.meta.dirname, "v2", "[[...path]]", "route.ts");

describe("the SCIM route", () => {
  const text = readFileSync(file, "utf8");

  it("hands every method to handleScimRequest", () => {
    const exported = [...text.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\s*=\s*(\w+);/g)];
    expect(exported.map(([, method]) => method).sort()).toEqual(["DELETE", "GET", "PATCH", "POST", "PUT"]);
    for (const [, , handler] of exported) expect(handler).toBe("serve");
    expect(text).toContain("handleScimRequest(request, (await context.params).path ?? [])");
    expect(text).not.toMatch(/export (async )?function/);
  });

  it("imports only the SCIM module", () => {
    const imports = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    expect(imports).toEqual(["@/server/scim"]);
  });
});
