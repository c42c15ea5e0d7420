// The console's browser and page code reaches the API only through lib/api: no fetch() of its own, and no API
// path with a value put in a segment by hand (where a name like `a/b` or `..` would reach another route).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith(path.join("app", "api")) && !file.startsWith(path.join("app", "mcp")));
}

const FILES = [...sources("components"), ...sources("app")];

/** A value interpolated right after a slash of an /api/ path: a segment built by hand. */
const HAND_BUILT_SEGMENT = /\/api\/[\w\-/]*\/\$\{/;
const OWN_FETCH = /(^|[^\w.])fetch\(/;

describe("client code calls the API only through lib/api", () => {
  it("finds the console's client files", () => {
    expect(FILES).toContain(path.join("components", "editor", "exec-client.ts"));
    expect(FILES.length).toBeGreaterThan(50);
  });

  it.each([
    ["a segment built by hand", `fetch(\`/api/v1/connections/$${"{"}name}/masking\`)`, HAND_BUILT_SEGMENT],
    [
      "an escaped segment built by hand",
      `\`/api/v1/reviews/$${"{"}encodeURIComponent(id)}\``,
      HAND_BUILT_SEGMENT,
    ],
    ["a fetch of its own", "const r = await fetch(url);", OWN_FETCH],
  ])("the check sees %s", (_name, line, pattern) => {
    expect(pattern.test(line)).toBe(true);
  });

  it("builds no API path segment by hand", () => {
    const found = FILES.flatMap((file) =>
      readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .flatMap((line, i) => (HAND_BUILT_SEGMENT.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found, "build the path with lib/api (apiPath, a resource's fetcher)").toEqual([]);
  });

  it("keeps lib/api client-safe: nothing from server/ and no server-only", () => {
    const found = readdirSync(path.join(root, "lib", "api"))
      .filter((name) => /\.ts$/.test(name) && !/\.test\.ts$/.test(name))
      .filter((name) =>
        /from "(@\/server\/|server-only|node:)|import "server-only"/.test(
          readFileSync(path.join(root, "lib", "api", name), "utf8"),
        ),
      );
    expect(found).toEqual([]);
  });

  it("calls no fetch() of its own", () => {
    const found = FILES.flatMap((file) =>
      readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .flatMap((line, i) => (OWN_FETCH.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(found, "call the API through a resource's fetcher in lib/api").toEqual([]);
  });
});
