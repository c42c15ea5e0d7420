import { describe, expect, it } from "vitest";
import { csvCell, parseAuditFilters } from "./audit-query";

describe("CSV cells", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi", then go', '"say ""hi"", then go"'],
    ["two\nlines", '"two\nlines"'],
    ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
    ["+1", "'+1"],
    ["@sum", "'@sum"],
  ])("writes %j as %j", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });
});

describe("audit filters", () => {
  it("reads filters from a query string and treats empty fields as any", () => {
    const filters = parseAuditFilters(new URLSearchParams("actor=ada&kind=review&target=&page=2"));
    expect(filters).toMatchObject({ actor: "ada", kind: "review", target: undefined, page: 2 });
  });

  it("refuses an unknown kind of action", () => {
    expect(() => parseAuditFilters({ kind: "everything" })).toThrow();
  });
});
