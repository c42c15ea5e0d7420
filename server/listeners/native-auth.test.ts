import { describe, expect, it } from "vitest";
import type { Principal } from "@/server/auth";
import { namesPrincipal } from "./native-auth";

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
    ["service", service, "report-bot", true],
    ["service", service, "REPORT-BOT", true],
    ["service", service, "report-bot@service.portcullis", true],
    ["service", service, "report", false],
    ["service", service, "ana@example.com", false],
    ["person", person, "ana@example.com", true],
    ["person", person, " Ana@Example.com ", true],
    ["person", person, "Ana", false], // a person is named by email: display names are not unique
    ["person", person, "report-bot", false],
  ])("a %s token, user %j: names its principal %s", (_kind, principal, user, names) => {
    expect(namesPrincipal(user, principal)).toBe(names);
  });
});
