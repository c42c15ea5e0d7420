// The service accounts journey: an admin creates an account for a CI job, rotates its token with a grace
// period, gives it a client secret that a program exchanges for a short-lived access token, and revokes the
// secret, which ends the access token at once. Along the way the program's write is held and, with
// Prefer: wait, answered with its result as soon as the admin approves it.
import { readFileSync } from "node:fs";
import { type APIRequestContext, expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function statusWith(request: APIRequestContext, token: string): Promise<number> {
  return (await request.get(`${e2eEnv.consoleUrl}/api/v1/connections`, { headers: bearer(token) })).status();
}

test("an admin rotates a service token and hands out client credentials that die with their secret", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  const base = e2eEnv.consoleUrl;
  await signIn(page, base, ADMIN.email, ADMIN.password);
  await page.goto(`${base}/service-accounts`);
  await page.getByLabel("Name", { exact: true }).fill("ci-bot");
  await page.getByRole("group", { name: "Groups" }).getByLabel("analysts", { exact: true }).check();
  await page.getByRole("button", { name: "Create and show token" }).click();
  const first = (await page.getByTestId("new-token").textContent()) ?? "";
  expect(first).toMatch(/^ptc_/);
  expect(await statusWith(request, first)).toBe(200);
  await page.getByRole("button", { name: "Done" }).click();

  // Rotate with an hour of grace: both tokens work, the new one is shown once.
  const row = page.getByRole("row", { name: /ci-bot/ });
  // The role dropdown is wide enough for its longest choice (it used to show "memb" and "audito").
  const roleFits = await row.getByLabel("Role of ci-bot").evaluate((el: HTMLSelectElement) => {
    const style = getComputedStyle(el);
    const context = document.createElement("canvas").getContext("2d");
    if (!context) return false;
    context.font = `${style.fontSize} ${style.fontFamily}`;
    const longest = Math.max(...[...el.options].map((o) => context.measureText(o.text).width));
    const padding = Number.parseFloat(style.paddingLeft) + Number.parseFloat(style.paddingRight);
    const arrow = 16;
    return el.clientWidth - padding - arrow >= longest;
  });
  expect(roleFits).toBe(true);
  await row.getByLabel(/Grace period when rotating/).selectOption({ label: "old: 1 more hour" });
  await row.getByRole("button", { name: "Rotate" }).click();
  await expect(page.getByRole("status")).toContainText("keeps working until");
  const second = (await page.getByTestId("new-token").textContent()) ?? "";
  expect(second).toMatch(/^ptc_/);
  expect(second).not.toBe(first);
  expect(await statusWith(request, first)).toBe(200);
  expect(await statusWith(request, second)).toBe(200);
  await snap(page, "service-accounts-01-rotated");
  await page.getByRole("button", { name: "Done" }).click();

  // A client secret, exchanged for an access token by HTTP Basic.
  await row.getByRole("button", { name: "New client secret" }).click();
  const clientId = (await page.getByTestId("new-client-id").textContent()) ?? "";
  const clientSecret = (await page.getByTestId("new-client-secret").textContent()) ?? "";
  expect(clientSecret).toMatch(/^pcs_/);
  await snap(page, "service-accounts-02-client-secret");
  const minted = await request.post(`${base}/api/v1/oauth/token`, {
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}` },
    form: { grant_type: "client_credentials" },
  });
  expect(minted.status(), await minted.text()).toBe(200);
  const { access_token: access, expires_in } = (await minted.json()) as {
    access_token: string;
    expires_in: number;
  };
  expect(expires_in).toBe(900);
  expect(await statusWith(request, access)).toBe(200);

  // The program's write is held; with Prefer: wait it hears the result once the admin approves.
  const waiting = request.post(`${base}/api/v1/connections/demo/exec`, {
    headers: { ...bearer(access), prefer: "wait=45" },
    data: { input: "update orders set status = status where id = 1" },
  });
  let reviewId: string | undefined;
  await expect
    .poll(async () => {
      const inbox = (await (await page.request.get(`${base}/api/v1/reviews?scope=inbox`)).json()) as {
        reviews: { id: string; requester: string }[];
      };
      reviewId = inbox.reviews.find((r) => r.requester === "service:ci-bot")?.id;
      return reviewId;
    })
    .toBeTruthy();
  const approved = await page.request.post(`${base}/api/v1/reviews/${reviewId}/approve`, {
    data: { comment: "ok" },
  });
  expect(approved.status()).toBe(200);
  const done = await waiting;
  expect(done.status(), await done.text()).toBe(200);
  expect(done.headers()["preference-applied"]).toBe("wait=45");
  expect(await done.json()).toMatchObject({ status: "done", reviewId });

  // Revoking the secret ends the access token at once; the page lists the secret as revoked, with its last use.
  await page.reload();
  await page.getByRole("button", { name: /^Revoke client secret pcs_/ }).click();
  await expect(page.getByRole("list", { name: "Client secrets" })).toContainText("revoked");
  expect(await statusWith(request, access)).toBe(401);
  await snap(page, "service-accounts-03-secret-revoked");

  await page.goto(`${base}/api-docs`);
  await expect(page.getByRole("cell", { name: "/api/v1/oauth/token" })).toBeVisible();
  await snap(page, "service-accounts-04-api-docs");

  // None of the secrets handed out reached the server's log.
  const log = readFileSync(e2eEnv.consoleLog, "utf8");
  expect([first, second, clientSecret, access].filter((secret) => log.includes(secret))).toEqual([]);
});
