// How a native client's session resolves names, checked in the read's own message (nameCheck, sent by
// PinnedSession.readInOneTrip just before the read) and asked on its own (pinnedResolution), on real PostgreSQL 15:
// a failed check stops the message before the read runs and leaves the client's transaction as it was; a passing
// one adds no exchange; neither can be fooled by the session's own operators. Then the pipeline's use of it: the
// common read is one exchange, and a session that resolves otherwise is remembered (asked first, not checked
// again) until it answers alike. Exchanges are counted from the target's own ReadyForQuery messages.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlTarget } from "@/server/pipeline";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import type { PinnedSession } from "./postgres";

const PASSWORD = "hunter2-plain";

let gateway: GatewayFixture;
let target: postgres.Sql;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "name-resolution",
    targetSql: `
      create table notes (id int, body text);
      create table accounts (id int primary key, login text, password text);
      insert into accounts values (1, 'grace', '${PASSWORD}');
      create table t (id int, v text);
      insert into t values (1, 'harmless');
      create schema vault;
      create view vault.t as select id, password as v from accounts;
      -- operators of someone's making, found before pg_catalog's by a session whose search_path puts public first:
      -- every text equals every other, and every concatenation says what the pool's session would
      create function public.always(text, text) returns boolean language sql immutable as 'select true';
      create operator public.= (leftarg = text, rightarg = text, function = public.always);
      create function public.poses(text, text) returns text language sql immutable
        as $$ select 'pg_catalog,public temp:false' $$;
      create operator public.|| (leftarg = text, rightarg = text, function = public.poses);`,
  });
  target = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await target?.end();
  await gateway?.stop();
});

async function open(): Promise<PinnedSession> {
  const { openPinnedSession } = await import("./postgres");
  return openPinnedSession(gateway.connectionId, () => {});
}

/** The target's ReadyForQuery messages during `act`: one per exchange the session finished. */
async function exchanges(session: PinnedSession, act: () => Promise<unknown>) {
  // an end sent before and not waited for is not this act's
  await session.sql.unsafe("select 1");
  const before = session.tap.readyCount;
  await act();
  // an end sent and not waited for is answered before anything else on the session: wait for it too
  await session.sql.unsafe("select 1");
  return session.tap.readyCount - before - 1;
}

async function poolAnswer() {
  const { poolResolution } = await import("./name-resolution");
  const answer = await poolResolution(gateway.connectionId, "");
  expect(answer).toBe("pg_catalog,public temp:false");
  return answer!;
}

describe("the name check sent in a read's own message", () => {
  it("stops the message before the read when the session resolves otherwise: the read never runs", async () => {
    const { nameCheck } = await import("./name-resolution");
    const session = await open();
    try {
      // A read that would fail if it ran: the check's refusal comes back instead of its division by zero.
      expect(
        await session.readInOneTrip("select 1/0", 10, undefined, undefined, nameCheck("elsewhere")),
      ).toBe("names differ");
      expect(session.tap.status).toBe("I");
    } finally {
      await session.close();
    }
  });

  it("leaves the client's transaction as it was when it refuses (its savepoint undone)", async () => {
    const { nameCheck } = await import("./name-resolution");
    const session = await open();
    try {
      await session.sql.unsafe("begin");
      await session.sql.unsafe("insert into notes values (41, 'kept')");
      expect(session.tap.status).toBe("T");
      expect(
        await session.readInOneTrip("select 1/0", 10, undefined, undefined, nameCheck("elsewhere")),
      ).toBe("names differ");
      expect(session.tap.status).toBe("T");
      await session.sql.unsafe("commit");
      const [row] = await target`select count(*)::int as n from notes where id = 41`;
      expect(row?.n).toBe(1);
    } finally {
      await target`delete from notes where id = 41`;
      await session.close();
    }
  });

  it.each([
    ["outside a transaction", false],
    ["in the client's transaction", true],
  ])(
    "stops the read-only opening of a read with parameters when it refuses, %s, and undoes it",
    async (_where, inTransaction) => {
      const { nameCheck } = await import("./name-resolution");
      const session = await open();
      try {
        if (inTransaction) await session.sql.unsafe("begin");
        expect(await session.beginReadOnly(nameCheck("elsewhere"))).toBe("names differ");
        expect(session.tap.status).toBe(inTransaction ? "T" : "I");
        // not left read-only: the client's own statements write as before
        await session.sql.unsafe("insert into notes values (42, 'after')");
        if (inTransaction) await session.sql.unsafe("commit");
        const [row] = await target`select count(*)::int as n from notes where id = 42`;
        expect(row?.n).toBe(1);
      } finally {
        await target`delete from notes where id = 42`;
        await session.close();
      }
    },
  );

  it("adds no exchange when it passes, and its own empty answer is not mistaken for the read's", async () => {
    const { nameCheck } = await import("./name-resolution");
    const expected = await poolAnswer();
    const session = await open();
    try {
      let read: Awaited<ReturnType<PinnedSession["readInOneTrip"]>>;
      expect(
        await exchanges(session, async () => {
          read = await session.readInOneTrip(
            "select id, v from t",
            10,
            undefined,
            undefined,
            nameCheck(expected),
          );
        }),
      ).toBe(1);
      expect(read).not.toBe("names differ");
      if (read === "names differ" || read === undefined) return;
      expect(read.columns.map((c) => c.name)).toEqual(["id", "v"]);
      expect(read.rows).toEqual([[1, "harmless"]]);
      expect(read.command).toBe("SELECT");
    } finally {
      await session.close();
    }
  });

  it("does not take a read's own error in its words, without its token, for its refusal", async () => {
    const { nameCheck } = await import("./name-resolution");
    const expected = await poolAnswer();
    const session = await open();
    try {
      const err = await session
        .readInOneTrip(
          "select ('portcullis: names resolve otherwise ' || random()::text)::int",
          10,
          undefined,
          undefined,
          nameCheck(expected),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // the read ran and failed as it would anywhere: its own error, thrown as the target said it
      expect((err as { code?: string }).code).toBe("22P02");
    } finally {
      await session.close();
    }
  });

  it("refuses once the session has a temporary table, whoever made it (temporary schemas come first)", async () => {
    const { nameCheck } = await import("./name-resolution");
    const expected = await poolAnswer();
    const session = await open();
    try {
      expect(await session.readInOneTrip("select 1", 10, undefined, undefined, nameCheck(expected))).not.toBe(
        "names differ",
      );
      await session.sql.unsafe(
        "do $$ begin create temporary table scratch as select 1 as x; end $$ language plpgsql",
      );
      expect(await session.readInOneTrip("select 1", 10, undefined, undefined, nameCheck(expected))).toBe(
        "names differ",
      );
    } finally {
      await session.close();
    }
  });

  it("is not fooled by an = or || of the session's own search_path (public before pg_catalog)", async () => {
    const { nameCheck, pinnedResolution } = await import("./name-resolution");
    const expected = await poolAnswer();
    const session = await open();
    try {
      await session.sql.unsafe("set search_path = public, pg_catalog");
      expect(await pinnedResolution(session)).toBe("public,pg_catalog temp:false");
      expect(await session.readInOneTrip("select 1", 10, undefined, undefined, nameCheck(expected))).toBe(
        "names differ",
      );
    } finally {
      await session.close();
    }
  });
});

describe("the pipeline's use of it on a native client's session", () => {
  let analyst: Principal;
  let checks = 0;
  let channel: import("@/server/pipeline").SqlChannel;

  beforeAll(async () => {
    const { createServiceAccount, loadPrincipal } = await import("@/server/auth");
    const account = await createServiceAccount(TEST_ACTOR, { name: "names-bot", groups: ["analysts"] });
    analyst = (await loadPrincipal(account.id, "token"))!;
    const { createGatewayCore, productionGatewayDeps } = await import("@/server/gateway");
    const { createSqlChannel, postgresTarget } = await import("@/server/pipeline");
    // The production target, its pool's answer counted: asked only when a read is to carry a check.
    const counted: SqlTarget = {
      ...postgresTarget,
      poolResolution: (...args) => {
        checks++;
        return postgresTarget.poolResolution(...args);
      },
    };
    channel = createSqlChannel(createGatewayCore(productionGatewayDeps()), counted);
  });

  async function run(session: PinnedSession, input: string, parameters?: string[]) {
    const outcome = await channel.runSql({
      principal: analyst,
      connectionName: "shop",
      input,
      channel: "native",
      targetSession: session,
      ...(parameters && { parameters }),
    });
    expect(outcome.status).toBe("done");
    if (outcome.status !== "done") return "";
    return JSON.stringify(outcome.results.at(-1)?.rows);
  }

  it("reads in one exchange where the session resolves names as the pool's", async () => {
    const session = await open();
    try {
      expect(await run(session, "select id, v from t")).toBe('[[1,"harmless"]]');
      expect(await exchanges(session, () => run(session, "select id, v from t"))).toBe(1);
    } finally {
      await session.close();
    }
  });

  it("asks nothing of its own before a read with parameters (its read-only opening carries the check)", async () => {
    const session = await open();
    try {
      const read = () => run(session, "select id, v from t where id = $1", ["1"]);
      expect(await read()).toBe('[[1,"harmless"]]');
      expect(await read()).toBe('[[1,"harmless"]]');
      // the opening, the read, the end of its transaction (sent and not waited for): no question before them
      expect(await exchanges(session, read)).toBe(3);
      await run(session, "set search_path = vault, public");
      const masked = await read();
      expect(masked).not.toContain(PASSWORD);
      expect(masked).not.toContain("harmless");
      expect(session.resolvesNamesOtherwise).toBe(true);
    } finally {
      await session.close();
    }
  });

  it("remembers a session that resolves otherwise: checked once, then asked first until it answers alike", async () => {
    const session = await open();
    try {
      await run(session, "select id, v from t");
      await run(session, "set search_path = vault, public");
      checks = 0;
      const masked = [await run(session, "select id, v from t")];
      expect(checks).toBe(1);
      expect(session.resolvesNamesOtherwise).toBe(true);
      // A client that sets its own search_path on connecting (DBeaver's default schema): no failed check again.
      masked.push(await run(session, "select id, v from t"), await run(session, "select id, v from t"));
      expect(checks).toBe(1);
      for (const rows of masked) {
        expect(rows).not.toContain(PASSWORD);
        expect(rows).not.toContain("harmless");
      }
      await run(session, "reset search_path");
      expect(await run(session, "select id, v from t")).toBe('[[1,"harmless"]]');
      expect(session.resolvesNamesOtherwise).toBe(false);
      expect(await run(session, "select id, v from t")).toBe('[[1,"harmless"]]');
      expect(checks).toBe(2);
    } finally {
      await session.close();
    }
  });
});
