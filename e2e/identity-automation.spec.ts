// Identity for enterprises and automation in a real browser against the running console: the identity provider
// deactivates a person over SCIM (the call is made from here, as Okta would) and the person's open console tab
// loses its access on its next step; a service account with the auditor role reads the audit stream and is
// refused on admin routes; one with the admin role (its token expiring) registers a connection by API; the
// service accounts page warns before an admin is made.
import { expect, request, test } from "@playwright/test";
import { adminRequest } from "./support/admin-api";
import { e2eEnv, OIDC_USER } from "./support/env";
import { signIn, snap } from "./support/pages";

const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER = "urn:ietf:params:scim:schemas:core:2.0:User";

async function serviceToken(name: string, role: string): Promise<string> {
  const admin = await adminRequest(e2eEnv.consoleUrl);
  const created = await admin.post("/api/v1/service-accounts", {
    data: { name: `${name}-${Date.now().toString(36)}`, role, ...(role === "admin" && { expiresInDays: 7 }) },
  });
  expect(created.status(), await created.text()).toBe(201);
  return ((await created.json()) as { token: string }).token;
}

test("an identity-provider deactivation ends the person's open console tab", async ({ page }) => {
  const base = e2eEnv.consoleUrl;
  const admin = await adminRequest(base);
  const minted = await admin.post("/api/v1/scim/tokens", { data: { name: "e2e-okta" } });
  expect(minted.status()).toBe(201);
  const scimToken = ((await minted.json()) as { token: string }).token;
  const idp = await request.newContext({
    baseURL: base,
    extraHTTPHeaders: { authorization: `Bearer ${scimToken}`, "content-type": "application/scim+json" },
  });

  // Okta's provisioning: look the person up by userName, create them when missing.
  const filter = encodeURIComponent(`userName eq "${OIDC_USER.email}"`);
  const found = (await (await idp.get(`/scim/v2/Users?filter=${filter}`)).json()) as {
    Resources: { id: string }[];
  };
  let id = found.Resources[0]?.id;
  if (!id) {
    const created = await idp.post("/scim/v2/Users", {
      data: { schemas: [USER], userName: OIDC_USER.email, displayName: OIDC_USER.name, active: true },
    });
    expect(created.status()).toBe(201);
    id = ((await created.json()) as { id: string }).id;
  }
  const setActive = (active: boolean) =>
    idp.patch(`/scim/v2/Users/${id}`, {
      data: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active } }] },
    });
  expect((await setActive(true)).status()).toBe(200);

  // The person signs in through single sign-on and works in a tab.
  await page.goto(`${base}/signin`);
  await page.getByRole("button", { name: "Sign in with Test SSO" }).click();
  await page.getByLabel("Email or username").fill(OIDC_USER.email);
  await page.getByLabel("Password").fill(OIDC_USER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await snap(page, "identity-sso-person-before-deactivation");

  try {
    // The identity provider deactivates them; the open tab's next step is refused.
    const off = await setActive(false);
    expect(off.status()).toBe(200);
    expect(((await off.json()) as { active: boolean }).active).toBe(false);
    expect((await page.request.get(`${base}/api/v1/me`)).status()).toBe(401);
    await page.reload();
    await expect(page).toHaveURL(/\/signin/);
    await snap(page, "identity-sso-person-after-deactivation");
  } finally {
    await setActive(true);
    await idp.dispose();
  }
});

test("a service account with the auditor role reads the audit stream and is refused on admin routes", async () => {
  const token = await serviceToken("e2e-siem", "auditor");
  const siem = await request.newContext({
    baseURL: e2eEnv.consoleUrl,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  const stream = await siem.get("/api/v1/audit/stream?limit=50");
  expect(stream.status()).toBe(200);
  expect(stream.headers()["content-type"]).toContain("application/x-ndjson");
  const lines = (await stream.text())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; cursor: string });
  expect(lines.length).toBeGreaterThan(0);
  expect(stream.headers()["x-next-cursor"]).toBe(lines.at(-1)?.cursor);
  const next = await siem.get(`/api/v1/audit/stream?after=${stream.headers()["x-next-cursor"]}`);
  expect(next.status()).toBe(200);

  for (const [method, path, permission] of [
    ["GET", "/api/v1/users", "users:manage"],
    ["POST", "/api/v1/connections", "connections:manage"],
    ["GET", "/api/v1/service-accounts", "tokens:manage"],
    ["POST", "/api/v1/connections/demo/exec", "connections:use"],
  ] as const) {
    const refused = await siem.fetch(path, { method, ...(method === "POST" && { data: {} }) });
    expect(refused.status(), path).toBe(403);
    expect(await refused.text(), path).toContain(`missing permission ${permission}`);
  }
  await siem.dispose();
});

test("a service account with the admin role creates a connection by API", async ({ page }) => {
  const token = await serviceToken("e2e-iac", "admin");
  const ci = await request.newContext({
    baseURL: e2eEnv.consoleUrl,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  const target = e2eEnv.targetPg;
  const name = `iac-${Date.now().toString(36)}`;
  const created = await ci.post("/api/v1/connections", {
    data: {
      kind: "postgres",
      name,
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      groups: [],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  expect(await created.text()).not.toContain(target.password);
  await ci.dispose();

  // A person who is an admin sees it (a service account sees the connections of its groups, as before), and the
  // service accounts page warns before an admin is made.
  const base = e2eEnv.consoleUrl;
  const admin = await adminRequest(base);
  const listed = (await (await admin.get("/api/v1/connections")).json()) as {
    connections: { name: string }[];
  };
  expect(listed.connections.map((c) => c.name)).toContain(name);
  const audit = (await (await admin.get(`/api/v1/audit?action=connection.create&target=${name}`)).json()) as {
    events: { actorLabel: string }[];
  };
  expect(audit.events[0]?.actorLabel).toMatch(/^service:e2e-iac-/);
  await signIn(page, base, "admin@example.com", "admin-password-1");
  await page.goto(`${base}/service-accounts`);
  await page.getByLabel("Role", { exact: true }).selectOption("admin");
  await expect(page.getByTestId("admin-warning")).toContainText("must expire within 90 days");
  await snap(page, "identity-admin-service-account-warning");
});
