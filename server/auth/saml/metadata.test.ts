import { describe, expect, it } from "vitest";
import { parseIdentityProviderMetadata } from "./metadata";

const CERT = "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0czAKBggqhkjOPQQDAjA";

function metadata(descriptor: string, entityId = "https://idp.example.com/entity"): string {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${descriptor}</md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

const signingKey = (use = ' use="signing"') =>
  `<md:KeyDescriptor${use}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
    ${CERT}
  </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const redirect = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/redirect"/>`;
const post = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>`;

describe("identity provider metadata", () => {
  it("reads the entity ID, the redirect single sign-on URL and the signing certificate as PEM", () => {
    const parsed = parseIdentityProviderMetadata(metadata(signingKey() + post + redirect));
    expect(parsed).toEqual({
      entityId: "https://idp.example.com/entity",
      ssoUrl: "https://idp.example.com/sso/redirect",
      ssoBinding: "redirect",
      certificates: [`-----BEGIN CERTIFICATE-----\n${CERT.slice(0, 64)}\n-----END CERTIFICATE-----`],
    });
  });

  it("uses HTTP-POST when the IdP offers only that, and keys without a use attribute", () => {
    const parsed = parseIdentityProviderMetadata(metadata(signingKey("") + post));
    expect(parsed.ssoBinding).toBe("post");
    expect(parsed.ssoUrl).toBe("https://idp.example.com/sso/post");
    expect(parsed.certificates).toHaveLength(1);
  });

  it.each([
    ["not XML", "<<<", /not well-formed/],
    [
      "no identity provider",
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`,
      /no identity provider/,
    ],
    ["no entity ID", metadata(signingKey() + redirect, ""), /no identity provider/],
    ["no single sign-on URL", metadata(signingKey()), /no SingleSignOnService/],
    [
      "only an encryption key",
      metadata(signingKey(' use="encryption"') + redirect),
      /no signing certificate/,
    ],
    [
      "a certificate that is not base64",
      metadata(signingKey().replace(CERT, "<!-- -->%%%") + redirect),
      /not base64/,
    ],
  ])("refuses metadata with %s (fail closed: no key, no sign-in)", (_name, xml, message) => {
    expect(() => parseIdentityProviderMetadata(xml)).toThrow(message);
  });
});
