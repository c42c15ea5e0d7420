// Lists every API route of the console from the file system, with the HTTP methods each route file exports,
// so that tests cover routes added later without being told.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface ApiRoute {
  /** URL path with sample values in place of dynamic segments */
  path: string;
  /** the file-system pattern, e.g. /api/v1/connections/[name] */
  pattern: string;
  methods: string[];
  file: string;
}

const root = path.resolve(import.meta.dirname, "../..");
const SAMPLE: Record<string, string> = { name: "demo", id: "00000000-0000-0000-0000-000000000000" };

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : entry.name === "route.ts" ? [full] : [];
  });
}

export function listApiRoutes(): ApiRoute[] {
  return walk(path.join(root, "app", "api")).map((file) => {
    const rel = path.relative(path.join(root, "app"), path.dirname(file)).split(path.sep);
    const pattern = `/${rel.join("/")}`;
    const urlPath = `/${rel
      .map((seg) => {
        const m = /^\[(?:\.\.\.)?(\w+)\]$/.exec(seg);
        return m ? (SAMPLE[m[1] ?? ""] ?? "sample") : seg;
      })
      .join("/")}`;
    const text = readFileSync(file, "utf8");
    const methods = new Set<string>();
    for (const m of text.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\b/g)) methods.add(m[1] ?? "");
    for (const m of text.matchAll(/as (GET|POST|PUT|PATCH|DELETE)\b/g)) methods.add(m[1] ?? "");
    return { path: urlPath, pattern, methods: [...methods].sort(), file };
  });
}
