import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./openapi";

describe("OpenAPI document", () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
      >
    >;
    components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  };

  it("is OpenAPI 3.1 with bearer auth and an error schema", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Error).toBeDefined();
  });

  it("describes the exec body from the zod schema that validates it", () => {
    const exec = doc.paths["/api/v1/connections/{name}/exec"]?.post;
    const schema = exec?.requestBody?.content["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(
      expect.arrayContaining(["input", "sessionId", "runId", "rowLimit"]),
    );
  });

  it("covers connections, check, reviews, sessions and policies", () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/connections",
        "/api/v1/connections/{name}/check",
        "/api/v1/reviews/{id}",
        "/api/v1/sessions",
        "/api/v1/policies/rules",
      ]),
    );
  });
});

describe("OpenAPI replies and security", () => {
  const doc = buildOpenApiDocument() as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  };

  it("describes the main replies with schemas, and every reference resolves", () => {
    const exec = doc.paths["/api/v1/connections/{name}/exec"]?.post as {
      responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
    };
    expect(exec.responses["200"]?.content?.["application/json"]?.schema.$ref).toBe(
      "#/components/schemas/ExecDone",
    );
    expect(exec.responses["202"]?.content?.["application/json"]?.schema.$ref).toBe(
      "#/components/schemas/ExecHeld",
    );
    for (const name of [
      "ConnectionList",
      "ExecDone",
      "Review",
      "Session",
      "TokenCreated",
      "AccessToken",
      "Error",
    ]) {
      expect(doc.components.schemas[name], name).toMatchObject({ type: "object" });
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1] ?? "",
    );
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((name) => !(name in doc.components.schemas))).toEqual([]);
  });

  it("documents Prefer: wait on the long polls", () => {
    for (const [path, method] of [
      ["/api/v1/connections/{name}/exec", "post"],
      ["/api/v1/reviews/{id}", "get"],
      ["/api/v1/sessions/{id}", "get"],
    ] as const) {
      const parameters = doc.paths[path]?.[method]?.parameters as { name: string; in: string }[];
      expect(parameters, path).toContainEqual(expect.objectContaining({ name: "Prefer", in: "header" }));
    }
  });

  it("has the OAuth 2.0 client credentials scheme, and a public form-encoded token endpoint", () => {
    expect(doc.components.securitySchemes.oauth2).toMatchObject({
      type: "oauth2",
      flows: {
        clientCredentials: {
          tokenUrl: "/api/v1/oauth/token",
          scopes: { "connections:use": expect.any(String) },
        },
      },
    });
    const token = doc.paths["/api/v1/oauth/token"]?.post as {
      security: unknown[];
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, unknown>;
    };
    expect(token.security).toEqual([]);
    expect(Object.keys(token.requestBody.content)).toContain("application/x-www-form-urlencoded");
    expect(Object.keys(token.responses).sort()).toEqual(["200", "400", "401", "429"]);
  });

  it("lists rotation and client secrets", () => {
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/service-accounts/{id}/tokens/{tokenId}/rotate",
        "/api/v1/service-accounts/{id}/client-secrets",
        "/api/v1/service-accounts/{id}/client-secrets/{secretId}",
      ]),
    );
  });
});

describe("OpenAPI coverage", () => {
  it("documents every method of every /api/v1 route file", async () => {
    const { listApiRoutes } = await import("@/e2e/support/routes");
    const { API_PATHS } = await import("./openapi");
    const documented = new Set(
      API_PATHS.map((p) => `${p.method.toUpperCase()} ${p.path.replace(/\{(\w+)\}/g, "[$1]")}`),
    );
    const missing = listApiRoutes()
      .filter((r) => r.pattern.startsWith("/api/v1/") && r.pattern !== "/api/v1/openapi.json")
      .flatMap((r) => r.methods.map((m) => `${m} ${r.pattern}`))
      .filter((key) => !documented.has(key));
    expect(missing, "add these to API_PATHS (server/http/openapi*.ts)").toEqual([]);
  });
});
