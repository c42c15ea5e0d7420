import { describe, expect, it } from "vitest";
import {
  type AccessPath,
  DAY_MS,
  isUnusedAccess,
  type MatrixRow,
  matrixToCsv,
  parseDateParam,
  progressByReviewer,
  revokeConsequence,
} from "./evidence";

const NOW = new Date("2026-06-30T12:00:00Z");
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY_MS).toISOString();
const group = (since: string): AccessPath => ({ via: "group", group: "analysts", since });
const grant: AccessPath = { via: "grant", grantId: "g1", since: daysAgo(90), endsAt: daysAgo(-1) };

describe("isUnusedAccess", () => {
  it.each([
    ["standing, last used 31 days ago", [group(daysAgo(100))], daysAgo(31), true],
    ["standing, last used 29 days ago", [group(daysAgo(100))], daysAgo(29), false],
    ["standing, never used, granted 40 days ago", [group(daysAgo(40))], null, true],
    ["standing, never used, granted yesterday", [group(daysAgo(1))], null, false],
    ["time-boxed grant only, never used", [grant], null, false],
    ["grant and group, never used", [grant, group(daysAgo(40))], null, true],
  ] as const)("%s", (_name, paths, lastUsedAt, expected) => {
    const since = paths.map((p) => p.since).sort()[0] ?? daysAgo(0);
    expect(isUnusedAccess({ paths: [...paths], since, lastUsedAt }, NOW, 30)).toBe(expected);
  });
});

describe("revokeConsequence", () => {
  it("says a group path is denied for this connection only and grants end", () => {
    const text = revokeConsequence("ann@example.com", "shop", [group(daysAgo(3)), grant]);
    expect(text).toContain("can no longer use shop through group analysts");
    expect(text).toContain("other members keep access");
    expect(text).toContain("the time-boxed grant ends now");
  });

  it("warns that the admin role is not taken away", () => {
    expect(revokeConsequence("root@example.com", "shop", [{ via: "admin", since: daysAgo(1) }])).toContain(
      "admin role still reaches every connection",
    );
  });
});

describe("matrixToCsv", () => {
  const row: MatrixRow = {
    principalId: "u1",
    principal: "=cmd@example.com",
    principalName: "Ann, the analyst",
    principalKind: "person",
    connectionId: "c1",
    connection: "shop",
    connectionKind: "postgres",
    paths: [group(daysAgo(3))],
    since: daysAgo(3),
    lastUsedAt: null,
    sessions30: 1,
    sessions90: 2,
    statements30: 3,
    statements90: 4,
    touchedTypes: ["credit_card", "email"],
    touchedColumns: ['card "no"'],
    isUnused: false,
  };

  it("quotes fields with commas or quotes and defuses spreadsheet formulas", () => {
    const [header, line] = matrixToCsv([row]).trim().split("\r\n");
    expect(header?.split(",")[0]).toBe("principal");
    expect(line).toMatch(/^'=cmd@example\.com,person,shop,group analysts,/);
    expect(line).toContain(',1,2,3,4,credit_card email,"card ""no""",no');
  });
});

describe("progressByReviewer", () => {
  it("counts decided and total per reviewer group, admins for unrouted items", () => {
    expect(
      progressByReviewer([
        { reviewerGroupName: "owners", decision: "keep" },
        { reviewerGroupName: "owners", decision: null },
        { reviewerGroupName: null, decision: "revoke" },
      ]),
    ).toEqual([
      { reviewer: "admins", decided: 1, total: 1 },
      { reviewer: "group owners", decided: 1, total: 2 },
    ]);
  });
});

describe("parseDateParam", () => {
  it("reads days as UTC midnight and refuses non-dates", () => {
    expect(parseDateParam("2026-01-02", "since").toISOString()).toBe("2026-01-02T00:00:00.000Z");
    expect(() => parseDateParam("yesterday", "since")).toThrow(/since is not a date/);
  });
});
