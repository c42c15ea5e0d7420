// Starts the real parts the end-to-end suite needs: a PostgreSQL target (initdb on a free port), an OpenID
// Connect provider, a SAML identity provider (its own process), and the built console configured for them.
// Returns the teardown, which also scans the console's log for secrets once every journey has run.

import { getFreePort } from "../test/harness/free-port";
import { startOidcProvider } from "../test/harness/oidc";
import { startPostgres } from "../test/harness/postgres";
import { startSamlIdp } from "../test/harness/saml-idp";
import { startConsole } from "./support/console";
import { ADMIN, OIDC_USER, SAML_USER } from "./support/env";
import { secretsInLog } from "./support/log-scan";

export default async function globalSetup() {
  const port = await getFreePort();
  const consoleUrl = `http://localhost:${port}`;
  const target = await startPostgres({ password: "tgt-Secret-9f8e7d6c5b" });
  const oidc = await startOidcProvider({
    clientId: "portcullis",
    clientSecret: "oidc-client-secret-for-tests",
    redirectUris: [`${consoleUrl}/api/auth/callback/oidc`],
    users: [OIDC_USER],
  });
  const saml = await startSamlIdp({
    spEntityId: `${consoleUrl}/api/auth/saml/metadata`,
    acsUrl: `${consoleUrl}/api/auth/saml/acs`,
    users: [SAML_USER],
  });
  const console_ = await startConsole({
    PORT: String(port),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    OIDC_ISSUER: oidc.issuer,
    OIDC_CLIENT_ID: "portcullis",
    OIDC_CLIENT_SECRET: "oidc-client-secret-for-tests",
    OIDC_NAME: "Test SSO",
    SAML_METADATA_URL: saml.metadataUrl,
    SAML_NAME: "Test SAML",
  });
  process.env.E2E_CONSOLE_URL = console_.url;
  process.env.E2E_CONSOLE_LOG = console_.logFile;
  process.env.E2E_SAML_IDP_URL = saml.url;
  process.env.E2E_TARGET_PG = JSON.stringify({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
  });
  return async () => {
    // After every journey, whatever order they ran in: the log holds no credential and no unmasked sample value.
    const leaks = secretsInLog(console_.logFile, target.password);
    await console_.stop();
    await oidc.stop();
    await saml.stop();
    await target.stop();
    if (leaks.length > 0) throw new Error(`the console log holds ${leaks.join(", ")}`);
  };
}
