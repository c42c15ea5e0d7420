import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { streamJsonResponse } from "./json-stream";

describe("streamJsonResponse", () => {
  it("sends exactly JSON.stringify of any JSON value", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const response = streamJsonResponse(value);
        expect(await response.text()).toBe(JSON.stringify(value));
      }),
      { numRuns: 200 },
    );
  });

  it("streams long arrays, sends a repeated array twice, and skips undefined like JSON.stringify", async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => [i, `row ${i}`, i % 2 === 0 ? null : { a: i }]);
    const value = {
      status: "done",
      gone: undefined,
      results: [{ rows, masked: [[0, 1, "email"]], at: new Date(0) }],
      rows,
      holes: [undefined, 1],
    };
    const response = streamJsonResponse(value, { status: 201 });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(JSON.stringify(value));
  });
});
