import { describe, expect, it } from "vitest";
import { matchesFilter, parseFilter } from "./filter";

const ada = {
  userName: "Ada@Example.com",
  externalId: "00u1",
  active: true,
  name: { givenName: "Ada", familyName: "Lovelace" },
  emails: [{ value: "ada@example.com", primary: true }, { value: "ada@home.example" }],
  meta: { lastModified: "2026-12-01T00:00:00Z" },
};

describe("SCIM filters", () => {
  it.each([
    ['userName eq "ada@example.com"', true],
    ['USERNAME eq "ADA@EXAMPLE.COM"', true],
    ['userName eq "bob@example.com"', false],
    ['externalId eq "00u1" and active eq true', true],
    ['externalId eq "00u1" and active eq false', false],
    ['userName sw "ada" or externalId eq "x"', true],
    ['emails.value eq "ada@home.example"', true],
    ['emails.value co "home"', true],
    ['name.familyName ew "lace"', true],
    ["title pr", false],
    ["externalId pr", true],
    ['not (userName eq "ada@example.com")', false],
    ['(userName eq "x" or userName eq "ada@example.com") and active eq true', true],
    ['meta.lastModified gt "2026-11-01T00:00:00Z"', true],
    ['userName ne "bob@example.com"', true],
    ['displayName eq "Ada \\"the\\" first"', false],
  ])("%s matches: %s", (filter, expected) => {
    expect(matchesFilter(ada, parseFilter(filter))).toBe(expected);
  });

  it.each([
    ["", /empty/],
    ['userName eq "open', /not closed/],
    ['userName xx "a"', /unsupported operator/],
    ['userName eq "a" and', /attribute name/],
    ['(userName eq "a"', /parenthesis/],
    ['userName eq "a" userName', /unexpected/],
    ['emails[type eq "work"].value eq "a"', /unsupported attribute path/],
    ["userName eq", /value/],
    ["userName; drop", /unexpected character/],
    ["a".repeat(3000), /too long/],
  ])("refuses %j, naming the problem", (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(message);
  });
});
