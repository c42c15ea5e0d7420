// What global setup started, shared with the tests through environment variables (Playwright passes the
// runner's environment to its workers).
export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };
export const OIDC_USER = {
  sub: "oidc-ana",
  email: "ana.sso@example.com",
  name: "Ana SSO",
  password: "sso-password-1",
  groups: ["oidc-analysts", "oncall"],
};

export const SAML_USER = {
  email: "sam.saml@example.com",
  name: "Sam SAML",
  password: "saml-password-1",
  groups: ["saml-analysts", "saml-oncall"],
};

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the suite through playwright.config.ts (global setup)`);
  return value;
}

export const e2eEnv = {
  get consoleUrl() {
    return required("E2E_CONSOLE_URL");
  },
  /** the SAML identity provider (test/harness/saml-idp.ts): /metadata, /sso, /idp-initiated */
  get samlIdpUrl() {
    return required("E2E_SAML_IDP_URL");
  },
  get consoleLog() {
    return required("E2E_CONSOLE_LOG");
  },
  get targetPg() {
    return JSON.parse(required("E2E_TARGET_PG")) as {
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
    };
  },
};
