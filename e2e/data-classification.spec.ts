// An admin opens a database's Data classification page: empty at first (it says what to do), "Scan now" samples
// the tables with progress, the card and email columns come up proposed with counts and a confidence (never a
// value on the page), the admin confirms the card column and a value no detector recognises is masked from the
// next query on, applies proposals at once, and rejects the email column. The hand-written rules are listed
// beside them.
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

const CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "4012 8888 8888 1881", "5555 5555 5555 4444"];
const EMAILS = CARDS.map((_, i) => `buyer${i}.lovelace@analytical.example.com`);
const ODD_CARD = "0000-1234-5678";

test("an admin scans a database for sensitive columns, confirms one, applies proposals and rejects one", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const base = e2eEnv.consoleUrl;
  const target = e2eEnv.targetPg;
  const admin = postgres({ ...target, max: 1, onnotice: () => {} });
  await admin.unsafe("drop database if exists classify_e2e");
  await admin.unsafe("create database classify_e2e");
  await admin.end();
  const db = postgres({ ...target, database: "classify_e2e", max: 1, onnotice: () => {} });
  await db.unsafe(`
    create table buyers (id int primary key, name text, card text, contact text);
    insert into buyers values ${CARDS.map((c, i) => `(${i + 1}, 'Buyer ${i}', '${c}', '${EMAILS[i]}')`).join(", ")},
      (100, 'Nobody', '${ODD_CARD}', 'n/a');
    create table widgets (id int primary key, title text);
    insert into widgets select g, 'Widget ' || g from generate_series(1, 20) g;`);
  await db.end();

  const seen: string[] = [];
  page.on("response", async (response) => {
    if (!response.url().startsWith(base)) return;
    const type = response.headers()["content-type"] ?? "";
    if (/json|html|text|x-component/.test(type)) seen.push(await response.text().catch(() => ""));
  });

  await signIn(page, base, ADMIN.email, ADMIN.password);
  const created = await page.request.post(`${base}/api/v1/connections`, {
    data: {
      kind: "postgres",
      name: "pg-classify",
      host: target.host,
      port: target.port,
      database: "classify_e2e",
      username: target.user,
      password: target.password,
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const cardCell = async () => {
    const reply = await page.request.post(`${base}/api/v1/connections/pg-classify/exec`, {
      data: { input: "select card from buyers where id = 100" },
    });
    expect(reply.status(), await reply.text()).toBe(200);
    const body = (await reply.json()) as { rows: string[][]; masked: [number, number, string][] };
    return { value: body.rows[0]?.[0], types: body.masked.map(([, , t]) => t) };
  };
  // Before any decision, the odd value in the card column is not recognised by a detector, so it shows.
  expect(await cardCell()).toEqual({ value: ODD_CARD, types: [] });

  await page.goto(`${base}/connections/pg-classify`);
  await page.getByRole("link", { name: "Data classification" }).click();
  await expect(page.getByRole("heading", { name: "Data classification", level: 1 })).toBeVisible();
  await expect(page.getByText("No sensitive columns found yet")).toBeVisible();
  await expect(page.getByText("Press “Scan now”")).toBeVisible();
  const rules = page.getByRole("table", { name: "Hand-written column rules" });
  await expect(rules).toContainText("*password*");
  await snap(page, "classification-01-empty");

  await page.getByRole("button", { name: "Scan now" }).click();
  const columns = page.getByRole("table", { name: "Discovered columns" });
  await expect(columns).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("status").filter({ hasText: "Last scan" })).toContainText(
    "2 of 2 tables sampled",
  );
  const card = columns.getByRole("row", { name: "public.buyers.card" });
  const contact = columns.getByRole("row", { name: "public.buyers.contact" });
  await expect(card).toContainText("credit_card");
  await expect(card).toContainText("credit_card 4 of 5 sampled values");
  await expect(card).toContainText("80%");
  await expect(card).toContainText("proposed");
  await expect(contact).toContainText("email");
  await expect(columns).not.toContainText("widgets");
  await snap(page, "classification-02-scanned");

  await card.getByRole("button", { name: "Confirm" }).click();
  await expect(
    page.getByText("public.buyers.card is masked as credit_card from the next request on."),
  ).toBeVisible();
  await expect(card).toContainText("confirmed");
  await expect(card).toContainText("masked as credit_card");
  const masked = await cardCell();
  expect(masked.types).toEqual(["credit_card"]);
  expect(masked.value).not.toContain("1234");
  await snap(page, "classification-03-confirmed");

  await page.getByLabel("Apply proposed classifications at once").check();
  await expect(page.getByText("Proposed classifications now mask their columns")).toBeVisible();
  await expect(contact).toContainText("proposed, applied");
  await contact.getByRole("button", { name: "Reject" }).click();
  await expect(page.getByText("public.buyers.contact is left to the detectors.")).toBeVisible();
  await expect(contact).toContainText("rejected");
  await expect(contact.getByRole("button", { name: "Reopen" })).toBeVisible();
  await snap(page, "classification-04-decided");

  // Nothing the page or its API sent holds a sampled value.
  const everything = seen.join("\n");
  for (const value of [...CARDS, ...EMAILS, ODD_CARD]) expect(everything).not.toContain(value);
});
