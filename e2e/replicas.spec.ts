// Two console processes on one PostgreSQL store, as a replicated deployment runs them: an analyst's DELETE is
// held by console A; an approver signed in to console B sees it arrive in the inbox without a reload (the
// "reviews changed" NOTIFY crosses processes) and approves; the request runs once on the target and the analyst's
// editor on console A shows the result, also without a reload.
import { randomBytes } from "node:crypto";
import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { type PostgresServer, startPostgres } from "../test/harness/postgres";
import { type RunningConsole, startConsole } from "./support/console";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap, typeAndRun } from "./support/pages";

const ANALYST = { email: "replica.analyst@example.com", password: "replica-analyst-pass-1" };
const CONNECTION = "replica-shop";

let store: PostgresServer;
let consoleA: RunningConsole;
let consoleB: RunningConsole;

test.beforeAll(async () => {
  test.setTimeout(600_000);
  store = await startPostgres({ password: "store-Secret-replicas-1" });
  const shared = {
    DATABASE_URL: store.url,
    MASTER_KEY: randomBytes(32).toString("hex"),
    AUTH_SECRET: randomBytes(32).toString("hex"),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO_TARGET: "off",
  };
  // One after the other, so the first runs the store's migrations alone.
  consoleA = await startConsole(shared);
  consoleB = await startConsole(shared);
  const target = postgres({ ...e2eEnv.targetPg, username: e2eEnv.targetPg.user, max: 1 });
  await target`drop table if exists replica_orders`;
  await target`create table replica_orders (id int primary key, item text not null)`;
  await target`insert into replica_orders select g, 'item ' || g from generate_series(1, 5) g`;
  await target.end();
});

test.afterAll(async () => {
  await consoleA?.stop();
  await consoleB?.stop();
  await store?.stop();
});

test("a request held by one console is approved on another and runs once", async ({ browser }) => {
  test.setTimeout(180_000);
  const approverContext = await browser.newContext();
  const approver = await approverContext.newPage();
  await signIn(approver, consoleB.url, ADMIN.email, ADMIN.password);
  const { targetPg } = e2eEnv;
  for (const [path, data] of [
    ["/api/v1/groups", { name: "replica-analysts" }],
    ["/api/v1/users", { email: ANALYST.email, password: ANALYST.password, groups: ["replica-analysts"] }],
    [
      "/api/v1/connections",
      {
        name: CONNECTION,
        kind: "postgres",
        host: targetPg.host,
        port: targetPg.port,
        database: targetPg.database,
        username: targetPg.user,
        password: targetPg.password,
        groups: ["replica-analysts"],
      },
    ],
  ] as const) {
    const created = await approver.request.post(`${consoleB.url}${path}`, { data });
    expect(created.status(), await created.text()).toBe(201);
  }
  await approver.goto(`${consoleB.url}/inbox`);
  await expect(approver.getByRole("heading", { name: "Inbox", level: 1 })).toBeVisible();

  const analystContext = await browser.newContext();
  const analyst = await analystContext.newPage();
  await signIn(analyst, consoleA.url, ANALYST.email, ANALYST.password);
  await analyst.goto(`${consoleA.url}/editor?connection=${CONNECTION}`);
  await expect(analyst.locator(".monaco-editor")).toBeVisible();
  await typeAndRun(analyst, "DELETE FROM replica_orders WHERE id = 1");
  await expect(analyst.getByText("Waiting for approval")).toBeVisible();

  // Console B learns of the review held by console A without a reload.
  const card = approver.getByRole("article", {
    name: new RegExp(`replica\\.analyst@example\\.com on ${CONNECTION}`),
  });
  await expect(card).toBeVisible();
  await expect(card.locator("[data-language=sql] .sql-keyword").first()).toHaveText("DELETE");
  await snap(approver, "replicas-01-inbox-on-console-b");
  await card.getByLabel("Comment").fill("approved on the other replica");
  await card.getByRole("button", { name: "Approve" }).click();

  // Console A's editor follows the decision taken on console B, and shows what ran.
  await expect(analyst.getByTestId("review-state")).toContainText("Approved by admin@example.com");
  await expect(analyst.getByTestId("review-state")).toContainText("DELETE 1");
  await snap(analyst, "replicas-02-result-on-console-a");

  const target = postgres({ ...targetPg, username: targetPg.user, max: 1 });
  const rows = await target`select id from replica_orders order by id`;
  await target.end();
  expect(rows.map((r) => r.id)).toEqual([2, 3, 4, 5]);

  // Either console tells the same story: executed once, in the history of both.
  for (const base of [consoleA.url, consoleB.url]) {
    const history = await approver.request.get(
      `${base}/api/v1/reviews?scope=history&connection=${CONNECTION}`,
    );
    const { reviews } = (await history.json()) as { reviews: { state: string; input: string }[] };
    expect(reviews.map((r) => [r.state, r.input])).toEqual([
      ["executed", "DELETE FROM replica_orders WHERE id = 1"],
    ]);
  }
  await approverContext.close();
  await analystContext.close();
});
