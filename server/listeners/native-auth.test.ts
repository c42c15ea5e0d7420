import { describe, expect, it } from "vitest";
import type { Principal } from "@/server/auth";
import { namesPrincipal, usesScram } from "./native-auth";

const service: Principal = {
  id: "s1",
  email: "report-bot@service.portcullis",
  name: "report-bot",
  role: "member",
  kind: "service",
  groups: [],
  via: "token",
};
const person: Principal = { ...service, id: "p1", email: "Ana@Example.com", name: "Ana", kind: "person" };

describe("the user name a native client gives", () => {
  it.each([
    ["service", "report-bot", true],
    ["service", "REPORT-BOT", true],
    ["service", "report-bot@service.portcullis", true],
    ["service", "report", false],
    ["service", "ana@example.com", false],
    ["person", "ana@example.com", true],
    ["person", " Ana@Example.com ", true],
    ["person", "Ana", false], // a person is named by email: display names are not unique
    ["person", "report-bot", false],
  ] as const)("a %s's token, user %j: names its principal %s", (kind, user, names) => {
    expect(namesPrincipal(user, kind === "service" ? service : person)).toBe(names);
  });
});

describe("how a user name authenticates", () => {
  it.each([
    ["ana@example.com", "SCRAM (a person's database credential)", true],
    [" Ana@Example.COM ", "SCRAM (a person's database credential)", true],
    ["nobody@example.com", "SCRAM (unknown people are answered like wrong passwords)", true],
    ["report-bot", "a cleartext API token", false],
    ["report-bot@service.portcullis", "a cleartext API token", false],
    ["REPORT-BOT@SERVICE.PORTCULLIS", "a cleartext API token", false],
    ["", "a cleartext API token (then refused)", false],
  ] as const)("user %j: %s", (user, _how, scram) => {
    expect(usesScram(user)).toBe(scram);
  });
});
