// When the identity provider's metadata cannot be read, the console cannot know which key signs answers:
// SAML sign-in is refused with that reason (fail closed), while the console's own SP metadata is still served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFreePort } from "@/test/harness/free-port";
import { type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";

const PUBLIC_URL = "http://console.test:3000";
let gateway: GatewayFixture;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  // Nothing listens there: the metadata is unreachable.
  process.env.SAML_METADATA_URL = `http://127.0.0.1:${await getFreePort()}/metadata`;
  gateway = await startGatewayFixture({ name: "saml-down" });
});

afterAll(async () => {
  await gateway?.stop();
});

describe("SAML sign-in without the identity provider's metadata", () => {
  it("refuses to start a sign-in, saying the metadata could not be loaded", async () => {
    const { GET } = await import("@/app/api/auth/saml/login/route");
    const response = await GET(new Request(`${PUBLIC_URL}/api/auth/saml/login?callbackUrl=/sessions`));
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.pathname).toBe("/signin");
    expect(location.searchParams.get("error")).toBe("Saml:metadata");
    expect(location.searchParams.get("callbackUrl")).toBe("/sessions");
  });

  it("refuses any answer, since no key can vouch for it", async () => {
    const { POST } = await import("@/app/api/auth/saml/acs/route");
    const response = await POST(
      new Request(`${PUBLIC_URL}/api/auth/saml/acs`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ SAMLResponse: Buffer.from("<samlp:Response/>").toString("base64") }),
      }),
    );
    expect(response.status).toBe(303);
    expect(new URL(response.headers.get("location") ?? "").searchParams.get("error")).toBe("Saml:metadata");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("still serves the console's own SP metadata", async () => {
    const { GET } = await import("@/app/api/auth/saml/metadata/route");
    const response = await GET(new Request(`${PUBLIC_URL}/api/auth/saml/metadata`));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`${PUBLIC_URL}/api/auth/saml/acs`);
  });
});
