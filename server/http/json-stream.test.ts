import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonChunks, jsonValueOf, streamJsonResponse } from "./json-stream";

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

describe("jsonChunks", () => {
  it("joins to exactly JSON.stringify of any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect([...jsonChunks(value)].join("")).toBe(JSON.stringify(value));
      }),
      { numRuns: 200 },
    );
  });

  it("cuts a large value into chunks of useful size", () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => [i, `row number ${i}`]);
    const chunks = [...jsonChunks({ rows })];
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.slice(0, -1).every((c) => c.length >= 64 * 1024)).toBe(true);
    expect(chunks.join("")).toBe(JSON.stringify({ rows }));
  });
});

describe("jsonValueOf", () => {
  it("gives the value behind a streamed reply until its body is read, and nothing for other responses", async () => {
    const value = { status: "done", rows: [[1]] };
    const response = streamJsonResponse(value);
    expect(jsonValueOf(response)?.value).toBe(value);
    expect(jsonValueOf(Response.json(value))).toBeUndefined();
    await response.text();
    expect(jsonValueOf(response)).toBeUndefined();
  });
});
