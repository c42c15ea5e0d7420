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
