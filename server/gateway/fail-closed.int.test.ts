// The gateway core fails closed, one dependency at a time: a core built with that one part made to fail and the
// real parts for the rest (a PostgreSQL target, the console's store on PostgreSQL, the connection registry).
// Each case refuses with its reason, records what it can, and, where nothing may run, the target proves it:
// the input would have inserted a row, and the row is not there.

import postgres from "postgres";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Principal } from "@/server/principal";
import { getFreePort } from "@/test/harness/free-port";
import { TEST_ACTOR as actor, type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";
import type { GatewayDeps } from "./core";

let gateway: GatewayFixture;
let storeUrl: string;
let targetUrl: string;
let analyst: Principal;
const CARD = "4111 1111 1111 1111";
/** What an injected failure says; it must never reach a reply, a recording or the log. */
const LEAK = "store password hunter2 at 10.0.0.7";

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "fail-closed",
    targetSql: `
    create table customers (id int primary key, name text, card_number text);
    insert into customers values (1, 'Grace', '${CARD}');
    create table marks (n int);
    create function mark() returns int language sql as $$ insert into marks values (2) returning n $$;`,
  });
  ({ storeUrl, targetUrl } = gateway);
  const { pg } = gateway;
  const { createServiceAccount, loadPrincipal } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  const { createRule } = await import("@/server/policy");
  const shop = { kind: "postgres" as const, host: pg.host, database: "shop", groups: ["analysts"] };
  const login = { username: pg.user, password: pg.password };
  // Its own connection, so no catalog answer is cached for it when its catalog fails.
  await createConnection(actor, { ...shop, ...login, name: "shop-catalog", port: pg.port });
  // Nothing listens there: the target is down.
  await createConnection(actor, { ...shop, ...login, name: "shop-down", port: await getFreePort() });
  // Writes are allowed, so only the injected failure can stop the insert.
  for (const connection of ["shop", "shop-catalog"])
    await createRule(actor, {
      name: `analysts write on ${connection}`,
      connection,
      groups: ["analysts"],
      classes: ["write"],
      action: "allow",
    });
  const account = await createServiceAccount(actor, { name: "report-bot", groups: ["analysts"] });
  analyst = (await loadPrincipal(account.id, "token"))!;
});

afterAll(async () => {
  await gateway?.stop();
});

let logged: ReturnType<typeof vi.spyOn>;
beforeEach(async () => {
  logged = vi.spyOn(console, "error");
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  await target`truncate marks`;
  await target.end();
});

afterEach(() => {
  // The failures are logged for the operator, without what the failing part said.
  expect(JSON.stringify(logged.mock.calls)).not.toContain("hunter2");
  logged.mockRestore();
});

/** Rows the target holds in `marks`: what ran there. */
async function marksOnTarget(): Promise<number> {
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  const [row] = await target`select count(*)::int as n from marks`;
  await target.end();
  return row?.n as number;
}

/** The recorded events whose input is `input`, oldest first, with their session's events after them. */
async function recorded(input: string) {
  const store = postgres(storeUrl, { max: 1, onnotice: () => {} });
  const rows = await store`
    select e.session_id, e.type, e.data from session_events e
    where e.session_id in (select session_id from session_events where data->>'input' = ${input})
    order by e.session_id, e.id`;
  await store.end();
  return rows.map((r) => ({ sessionId: r.session_id as string, type: r.type as string, data: r.data }));
}

/** A SQL channel over a core with the production parts, `failing` replacing some of them. */
async function channelWith(failing: (real: GatewayDeps) => Partial<GatewayDeps>) {
  const { createGatewayCore, productionGatewayDeps } = await import("@/server/gateway");
  const { createSqlChannel, postgresTarget } = await import("@/server/pipeline");
  const real = productionGatewayDeps();
  return (target = postgresTarget) =>
    createSqlChannel(createGatewayCore({ ...real, ...failing(real) }), target);
}

const down = () => Promise.reject(new Error(LEAK));

async function refusal(promise: Promise<unknown>) {
  const { GatewayError } = await import("@/server/errors");
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  const error = err as InstanceType<typeof GatewayError>;
  expect(error.message).not.toContain("hunter2");
  return error;
}

describe("a stage that cannot read what it needs refuses, records the refusal, and runs nothing", () => {
  const cases = [
    {
      stage: "rules unreadable",
      failing: (): Partial<GatewayDeps> => ({ rules: { sql: down, commands: down } }),
      reason: "the policy store cannot be read, so nothing runs (fail closed)",
    },
    {
      stage: "masking settings unreadable",
      failing: (): Partial<GatewayDeps> => ({ masking: { configFor: down } }),
      reason: "the masking settings cannot be read, so nothing runs (fail closed)",
    },
  ];
  it.each(cases)(
    "$stage: refused as unavailable, blocked in the recording, no row on the target",
    async ({ stage, failing, reason }) => {
      const sql = (await channelWith(failing))();
      const input = `insert into marks values (1) -- ${stage}`;
      const error = await refusal(
        sql.runSql({ principal: analyst, connectionName: "shop", input, channel: "api" }),
      );
      expect(error.code).toBe("unavailable");
      expect(error.message).toBe(reason);
      expect(await marksOnTarget()).toBe(0);
      const events = await recorded(input);
      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({
        status: "blocked",
        decision: "deny",
        reasons: [{ message: reason }],
      });
      expect(error.details?.sessionId).toBe(events[0]?.sessionId);
      expect(JSON.stringify(events)).not.toContain("hunter2");
    },
  );
});

describe("the recorder", () => {
  it("down before execute: refused, and the statement never reaches the target", async () => {
    const sql = (
      await channelWith((real) => ({
        recorder: {
          ...real.recorder,
          startSessionWithEvent: down,
          appendSessionEvent: down,
          startSession: down,
        },
      }))
    )();
    const input = "insert into marks values (1) -- recorder down before execute";
    const error = await refusal(
      sql.runSql({ principal: analyst, connectionName: "shop", input, channel: "api" }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("the recorder cannot store the session, so nothing runs (fail closed)");
    expect(await marksOnTarget()).toBe(0);
    expect(await recorded(input)).toEqual([]);
  });

  it("down before the reply: the statement ran as recorded, but no row reaches the caller", async () => {
    const sql = (
      await channelWith((real) => ({
        recorder: {
          ...real.recorder,
          appendSessionEvent: (sessionId, type, ...rest) =>
            type === "result" ? down() : real.recorder.appendSessionEvent(sessionId, type, ...rest),
        },
      }))
    )();
    const input = "select name, card_number from customers -- recorder down before reply";
    const error = await refusal(
      sql.runSql({ principal: analyst, connectionName: "shop", input, channel: "api" }),
    );
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("the recorder cannot store the result, so it is not returned (fail closed)");
    expect(JSON.stringify(error)).not.toContain("Grace");
    expect(JSON.stringify(error.details ?? {})).not.toContain(CARD);
    // What could be recorded was: the statement, before it ran.
    const events = await recorded(input);
    expect(events.map((e) => [e.type, (e.data as { status?: string }).status])).toEqual([
      ["statement", "running"],
    ]);
  });
});

describe("the target and its catalog", () => {
  it("target down: refused with why, the failure recorded as the statement's result", async () => {
    const sql = (await channelWith(() => ({})))();
    const input = "select 'target down probe'";
    const error = await refusal(
      sql.runSql({ principal: analyst, connectionName: "shop-down", input, channel: "api" }),
    );
    expect(error.code).toBe("target_unavailable");
    const events = await recorded(input);
    expect(events.map((e) => [e.type, (e.data as { status?: string }).status])).toEqual([
      ["statement", "running"],
      ["result", "failed"],
    ]);
    expect(events[1]?.data).toMatchObject({ error: error.message });
  });

  it("catalog lookup failed: blocked with the catalog named as the reason, and what it calls never runs", async () => {
    const { postgresTarget } = await import("@/server/pipeline");
    const sql = (await channelWith(() => ({})))({ ...postgresTarget, queryCatalog: down });
    const input = "select mark() -- catalog down";
    const outcome = await sql.runSql({
      principal: analyst,
      connectionName: "shop-catalog",
      input,
      channel: "api",
    });
    expect(outcome.status).toBe("blocked");
    const reasons = outcome.status === "blocked" ? outcome.reasons.map((r) => r.message).join("; ") : "";
    expect(reasons).toContain("the target's catalog could not be read");
    expect(reasons).not.toContain("hunter2");
    expect(await marksOnTarget()).toBe(0);
    const events = await recorded(input);
    expect(events.map((e) => [e.type, (e.data as { status?: string }).status])).toEqual([
      ["statement", "blocked"],
    ]);
  });

  it("the same core with every part working runs the insert (the cases above fail only by their failure)", async () => {
    const sql = (await channelWith(() => ({})))();
    const input = "insert into marks values (1) -- all parts up";
    const outcome = await sql.runSql({ principal: analyst, connectionName: "shop", input, channel: "api" });
    expect(outcome.status).toBe("done");
    expect(await marksOnTarget()).toBe(1);
  });
});

describe("approvals run what was approved only through the runner its channel registered", () => {
  it("fails a review of a channel nothing in this console runs, with why, and runs nothing", async () => {
    const { createUser, loadPrincipal } = await import("@/server/auth");
    const { createReview, decideReview } = await import("@/server/approvals");
    const { getConnectionForUse } = await import("@/server/connections");
    const { startSession } = await import("@/server/recording");
    const admin = (await loadPrincipal(
      await createUser(actor, { email: "admin@example.com", password: "a long passphrase 1", role: "admin" }),
      "session",
    ))!;
    const shop = await getConnectionForUse(analyst, "shop");
    const sessionId = await startSession(analyst, shop, "sql", "api");
    const reviewId = await createReview({
      principal: analyst,
      connection: shop,
      sessionId,
      channel: "carrier-pigeon",
      input: "insert into marks values (1)",
      class: "write",
      reasons: [],
    });
    const decided = await decideReview(admin, reviewId, "approve", "");
    expect(decided.state).toBe("failed");
    expect(decided.result).toMatchObject({
      status: "failed",
      error: "nothing in this console runs approved carrier-pigeon requests",
    });
    expect(await marksOnTarget()).toBe(0);
  });
});
