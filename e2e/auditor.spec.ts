// The auditor's journey: a session's replay page says its recording verifies against its hash chain, the
// evidence bundle downloads with that proof inside, and the audit log is filtered (a service account's token
// creation, sign-ins) and exported as CSV holding exactly the filtered events. A session altered in the store
// shows where its check fails.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

test("an auditor sees a verified session, downloads its evidence, filters the audit log and exports CSV", async ({
  page,
}) => {
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  const run = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select id, email from customers order by id limit 2" },
  });
  expect(run.status()).toBe(200);
  const { sessionId } = (await run.json()) as { sessionId: string };
  await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select count(*) from customers", sessionId },
  });
  const account = `auditor-e2e-${Date.now()}`;
  const created = await page.request.post(`${base}/api/v1/service-accounts`, {
    data: { name: account, groups: [] },
  });
  expect(created.status()).toBe(201);

  // The replay page: the badge, and the evidence bundle with the same verification inside.
  const verify = await page.request.get(`${base}/api/v1/sessions/${sessionId}/verify`);
  const verification = (await verify.json()) as { ok: boolean; events: number };
  expect(verification.ok).toBe(true);
  expect(verification.events).toBeGreaterThanOrEqual(4);
  await page.goto(`${base}/sessions/${sessionId}`);
  const integrity = page.getByTestId("integrity");
  await expect(integrity).toContainText(`Verified (${verification.events} events)`);
  await snap(page, "auditor-01-verified-session");
  const [evidence] = await Promise.all([
    page.waitForEvent("download"),
    integrity.getByRole("link", { name: "Download evidence" }).click(),
  ]);
  expect(evidence.suggestedFilename()).toMatch(/^evidence-demo-.+\.json$/);
  const bundle = JSON.parse(await readFile((await evidence.path()) ?? "", "utf8")) as {
    session: { id: string };
    events: { seq: number; hash: string }[];
    auditEvents: unknown[];
    integrity: {
      session: { head: { hash: string }; verification: { ok: boolean } };
      auditLog: { ok: boolean };
    };
  };
  expect(bundle.session.id).toBe(sessionId);
  expect(bundle.events.map((e) => e.seq)).toEqual(bundle.events.map((_, i) => i + 1));
  expect(bundle.events).toHaveLength(verification.events);
  expect(bundle.integrity.session.verification.ok).toBe(true);
  expect(bundle.integrity.session.head.hash).toBe(bundle.events.at(-1)?.hash);
  expect(bundle.integrity.auditLog.ok).toBe(true);

  // The audit log: the chain status, then filters that find the token creation and the sign-ins.
  await page.goto(`${base}/audit`);
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  await expect(page.getByTestId("audit-chain")).toContainText("Audit log verified");
  const filters = page.getByRole("form", { name: "Filter audit events" });
  await filters.getByLabel("Kind of action").selectOption({ label: "Service accounts and tokens" });
  await filters.getByLabel("Target").fill(account);
  await filters.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/kind=token/);
  const rows = page.locator("table.data tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("token.create");
  await expect(rows.nth(1)).toContainText("service_account.create");
  await snap(page, "auditor-02-audit-filtered");

  await page.goto(`${base}/audit?kind=signin&actor=${encodeURIComponent(ADMIN.email)}`);
  await expect(rows.first()).toContainText("auth.signin");
  const [csv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  expect(csv.suggestedFilename()).toMatch(/^audit-.+\.csv$/);
  const lines = (await readFile((await csv.path()) ?? "", "utf8")).trim().split("\r\n");
  expect(lines[0]).toBe("id,seq,at,actor,actor_id,action,target,details,hash");
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line).toMatch(/,auth\.sign(in|out)(_failed)?,/);
  expect(lines.slice(1).some((line) => line.includes(`${ADMIN.email},`))).toBe(true);
  await snap(page, "auditor-03-audit-signins");

  // A filter that matches nothing says how to widen it.
  await page.goto(`${base}/audit?target=no-such-target-${Date.now()}`);
  await expect(page.getByText("No audit event matches these filters")).toBeVisible();
});

test("a session altered in the store shows the event where its integrity check fails", async ({ page }) => {
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  const run = await page.request.post(`${base}/api/v1/connections/demo/exec`, {
    data: { input: "select id from customers order by id limit 1" },
  });
  const { sessionId } = (await run.json()) as { sessionId: string };
  // The console's embedded store, reached the way the admin command line reaches it: its local socket.
  const store = postgres({
    path: path.join(path.dirname(e2eEnv.consoleLog), ".store.sock"),
    max: 1,
    username: "postgres",
    database: "postgres",
    onnotice: () => {},
  });
  try {
    await store`update session_events set data = jsonb_set(data, '{input}', '"select 1"')
      where session_id = ${sessionId} and seq = 1`;
  } finally {
    await store.end();
  }
  await page.goto(`${base}/sessions/${sessionId}`);
  await expect(page.getByTestId("integrity")).toContainText("Integrity check failed at event 1");
  await expect(page.getByTestId("integrity")).toContainText("altered after it was recorded");
  await snap(page, "auditor-04-tampered-session");
  const verify = await page.request.get(`${base}/api/v1/sessions/${sessionId}/verify`);
  expect(await verify.json()).toMatchObject({ ok: false, firstBadSeq: 1 });
});
