import { describe, expect, it } from "vitest";
import type { ConnectionView } from "./service";
import { copyConnectionView } from "./view-copy";

/** Every field a view has (a new one fails the typecheck here until it is added, and then the checks below). */
const view: ConnectionView = {
  id: "c1",
  name: "shop",
  kind: "postgres",
  description: "orders",
  host: "db.internal",
  port: 5432,
  database: null,
  username: "gateway",
  groups: ["analysts", "ops"],
  credentials: { password: true, privateKey: false },
  approvals: { approverGroups: ["leads"], approvalsRequired: 2 },
  hostKey: null,
  hostKeyPinnedAt: null,
  terminal: { idleTimeoutSeconds: 600, maxDurationSeconds: null },
  isDemo: false,
  createdAt: "2026-12-07T10:00:00.000Z",
  updatedAt: "2026-12-07T10:00:00.000Z",
};

/** Paths of every object or array inside a value. */
function nestedPaths(value: unknown, path = ""): string[] {
  if (typeof value !== "object" || value === null) return [];
  return [path, ...Object.entries(value).flatMap(([key, inner]) => nestedPaths(inner, `${path}.${key}`))];
}

const at = (value: unknown, path: string) =>
  path
    .split(".")
    .filter(Boolean)
    .reduce((v, key) => (v as Record<string, unknown>)[key], value);

describe("copyConnectionView", () => {
  it("is the same value structuredClone gives", () => {
    expect(copyConnectionView(view)).toStrictEqual(structuredClone(view));
  });

  it.each(nestedPaths(view).map((path) => [path || "the view itself", path]))(
    "shares nothing a caller could change with the cached view: %s",
    (_name, path) => {
      expect(at(copyConnectionView(view), path)).not.toBe(at(view, path));
    },
  );

  it("keeps the cached view as it was when a caller changes its copy", () => {
    const before = structuredClone(view);
    const copy = copyConnectionView(view);
    copy.groups.push("intruders");
    copy.approvals.approverGroups.length = 0;
    copy.credentials.password = false;
    copy.terminal.idleTimeoutSeconds = null;
    copy.name = "elsewhere";
    expect(view).toStrictEqual(before);
  });
});
