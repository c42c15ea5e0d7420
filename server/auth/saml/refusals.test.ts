import { describe, expect, it } from "vitest";
import { refusalOfLibraryError, SAML_REFUSALS, samlRefusalMessage } from "./refusals";

describe("SAML refusals", () => {
  // node-saml 5's own messages, as it throws them while validating a response.
  it.each([
    ["Invalid signature", "signature"],
    ["Invalid document signature", "signature"],
    ["Invalid signature: multiple assertions", "signature"],
    ["Cannot obtain assertion from signed data", "signature"],
    ["SAML assertion expired: clocks skewed too much", "expired"],
    ["SAML assertion expired: assertion too old", "expired"],
    ["SAML assertion not yet valid", "expired"],
    ["SAML assertion audience mismatch. Expected: a Received: b", "audience"],
    ["SAML assertion has no AudienceRestriction", "audience"],
    ["InResponseTo is not valid", "unknown_request"],
    ["SubjectInResponseTo is not valid", "unknown_request"],
    ["Invalid signature: No response found", "malformed"],
    ["Missing SAML assertion", "malformed"],
    ["SAML provider returned Responder error: unspecified", "status"],
    ["something no one foresaw", "malformed"],
  ])("sorts %j as %s", (message, code) => {
    expect(refusalOfLibraryError(new Error(message)).code).toBe(code);
  });

  it("has a sentence for every code, and none for anything else in the page's address", () => {
    for (const code of Object.keys(SAML_REFUSALS)) expect(samlRefusalMessage(code)).toMatch(/\.$/);
    expect(samlRefusalMessage("toString")).toBeUndefined();
    expect(samlRefusalMessage("<script>")).toBeUndefined();
  });
});
