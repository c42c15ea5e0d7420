// A native client's read on its pinned target session: its read-only scope and the read go to the target in one
// message (PinnedSession.readInOneTrip), and nothing of the client's own making can run the read outside that
// scope or confuse which scope it is. Also: no text the gateway sends (a read on a pinned or a pooled session,
// lineage's EXPLAIN of it) can be split by the target into more statements than the classifier saw. Real
// PostgreSQL 15, the real driver; the exchanges are counted from the target's own ReadyForQuery messages.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";
import type { PinnedSession, RunOptions } from "./postgres";

let gateway: GatewayFixture;
let target: postgres.Sql;

beforeAll(async () => {
  gateway = await startGatewayFixture({
    name: "pinned-read",
    targetSql: `
      create table notes (id int, body text);
      create table bumps (n int);
      create function bump() returns int language sql as $$ insert into bumps values (1) returning n $$;
      -- declared stable (so classified a read), yet they write: only the read-only scope stops them
      create function sly_bump() returns int language plpgsql stable as $$ begin return bump(); end $$;
      create function unlocking_bump() returns int language plpgsql stable as $$
        begin perform set_config('transaction_read_only', 'off', true); return bump(); end $$;
      -- a read that says what the read-only opening says when it finds a transaction open (25001)
      create function posing() returns int language plpgsql stable as $$
        begin raise warning using errcode = '25001', message = 'there is already a transaction in progress';
        return 1; end $$;
      create function posing_bump() returns int language plpgsql stable as $$
        begin raise warning using errcode = '25001', message = 'there is already a transaction in progress';
        return bump(); end $$;`,
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

/** One input on the pinned session, as the pipeline runs it: a read in its read-only scope, else as it is. */
async function run(
  session: PinnedSession,
  text: string,
  kind: string,
  read: boolean,
  more: Partial<RunOptions> = {},
) {
  const { runStatements } = await import("./postgres");
  const { results, error } = await runStatements(session.connectionId, [text], {
    rowLimit: 100,
    throughCursor: () => true,
    readOnly: read,
    statementKinds: [kind],
    pinned: session,
    ...more,
  });
  return { result: results[0], error: error as (Error & { sqlState?: string }) | undefined };
}

const read = (s: PinnedSession, text: string, more?: Partial<RunOptions>) =>
  run(s, text, "SelectStmt", true, more);
const control = (s: PinnedSession, text: string) => run(s, text, "TransactionStmt", false);
const write = (s: PinnedSession, text: string) => run(s, text, "InsertStmt", false);

/** The target's ReadyForQuery messages during `act`: one per exchange the session finished. */
async function exchanges(session: PinnedSession, act: () => Promise<unknown>) {
  const before = session.tap.readyCount;
  await act();
  // an end sent and not waited for is answered before anything else on the session: wait for it too
  await session.sql.unsafe("select 1");
  return session.tap.readyCount - before - 1;
}

async function bumps() {
  const [row] = await target`select count(*)::int as n from bumps`;
  return row?.n as number;
}

describe("a native client's read on its pinned session", () => {
  it.each([
    ["outside a transaction, in one exchange and no end to send", false, 1, "I"],
    ["in the client's transaction, in one exchange plus its scope's end", true, 2, "T"],
  ])("runs a read %s", async (_what, inTransaction, count, after) => {
    const session = await open();
    try {
      if (inTransaction) await control(session, "begin");
      const n = await exchanges(session, async () => {
        const { result, error } = await read(session, "select 41 + 1 as answer");
        expect(error).toBeUndefined();
        expect(result?.rows).toEqual([[42]]);
        expect(result?.columns.map((c) => c.name)).toEqual(["answer"]);
        expect(result?.command).toBe("SELECT");
      });
      expect(n).toBe(count);
      expect(session.tap.status).toBe(after);
    } finally {
      await session.close();
    }
  });

  it.each([
    ["outside a transaction", false],
    ["in the client's transaction", true],
  ])(
    "keeps a read from writing %s, whichever way it tries, and leaves the session usable",
    async (_w, tx) => {
      const session = await open();
      try {
        const attempts: [string, string[] | undefined][] = [
          ["select bump()", undefined],
          ["select sly_bump()", undefined],
          ["select unlocking_bump()", undefined],
          ["select sly_bump() where $1::int = 1", ["1"]],
          ["select unlocking_bump() where $1::int = 1", ["1"]],
        ];
        for (const [attempt, parameters] of attempts) {
          if (tx) await control(session, "begin");
          const { error } = await read(session, attempt, parameters && { parameters });
          expect(error?.sqlState, attempt).toMatch(/^(25006|25001)$/);
          if (tx) await control(session, "rollback");
        }
        expect(await bumps()).toBe(0);
        expect((await read(session, "select 1 as one")).result?.rows).toEqual([[1]]);
      } finally {
        await session.close();
      }
    },
  );

  it("never runs a read outside its scope when the client's statement_timeout cancels what it can", async () => {
    // The attack that kept the opening and the read in separate messages before: a timeout of 1 ms set by the
    // client cancels the opening under load while a fast read behind it writes. Now one message: whatever the
    // timeout cuts, the read after it does not run, and the read itself cannot write.
    const session = await open();
    try {
      await run(session, "set statement_timeout = 1", "VariableSetStmt", false);
      const seen = new Set<string>();
      for (let i = 0; i < 150; i++) {
        const inTransaction = i % 2 === 1;
        if (inTransaction) await control(session, "begin");
        const { error } = await read(session, "select sly_bump()");
        seen.add(error?.sqlState ?? "none");
        if (inTransaction) await control(session, "rollback");
        expect(session.tap.status).toBe("I");
      }
      expect([...seen].every((code) => code === "25006" || code === "57014")).toBe(true);
      expect(await bumps()).toBe(0);
    } finally {
      await session.close();
    }
  });

  it.each([
    ["outside a transaction", false],
    ["in the client's transaction", true],
  ])("is not fooled by a read raising the opening's SQLSTATE (25001) %s", async (_what, tx) => {
    // Were the scope read from notices, this read would pass for one inside a transaction: the gateway's own
    // scope would be left open and the write after it never committed (or the client's transaction committed).
    const session = await open();
    try {
      if (tx) await control(session, "begin");
      expect((await read(session, "select posing()")).result?.rows).toEqual([[1]]);
      expect((await read(session, "select posing_bump()")).error?.sqlState).toBe("25006");
      expect((await write(session, "insert into notes values (1, 'after the pose')")).error).toBeUndefined();
      expect(session.tap.status).toBe(tx ? "T" : "I");
      const seenOutside = await target`select count(*)::int as n from notes where id = 1`;
      expect(seenOutside[0]?.n).toBe(tx ? 0 : 1);
      if (tx) await control(session, "commit");
      const committed = await target`select count(*)::int as n from notes where id = 1`;
      expect(committed[0]?.n).toBe(1);
      expect(await bumps()).toBe(0);
    } finally {
      await target`delete from notes where id = 1`;
      await session.close();
    }
  });

  it.each([
    [
      "standard_conforming_strings off: \\' is a quote, the literal ends later",
      "set standard_conforming_strings = off",
      "select 'a\\' , ' ; commit; insert into notes values (9, $$smuggled$$); -- '",
    ],
    [
      "client_encoding GBK: a character swallows the \\, the literal ends sooner",
      "set client_encoding = 'GBK'",
      "select E'\u4e01\\' ; commit; insert into notes values (9, $$smuggled$$); -- '",
    ],
  ])(
    "does not let the target split a read otherwise than the gateway did: %s",
    async (_what, setting, text) => {
      // The classifier reads every text with standard_conforming_strings on, in UTF-8: each text here is for it one
      // SELECT of literals, and for the target, under the session's setting, a SELECT, a COMMIT and an INSERT. In
      // one Query the COMMIT would end the read-only transaction and the INSERT write. The gateway refuses such
      // settings from a client, but one can also come from the role's or the database's defaults on the target.
      // Both ways a read can go: a bounded one runs plainly, another through a cursor (main's code sent the first
      // as a simple Query).
      for (const throughCursor of [false, true]) {
        const session = await open();
        try {
          await run(session, setting, "VariableSetStmt", false);
          await read(session, text, { throughCursor: () => throughCursor });
          const [row] = await target`select count(*)::int as n from notes where id = 9`;
          expect(row?.n, `through a cursor: ${throughCursor}`).toBe(0);
        } finally {
          await target`delete from notes where id = 9`;
          await session.close();
        }
      }
    },
  );

  it("does not let the target split the gateway's own EXPLAIN of a read (lineage, before the run)", async () => {
    const session = await open();
    const smuggled =
      "select 'a\\' , ' ; commit; set transaction_read_only = off; insert into notes values (9, $$smuggled$$); -- '";
    try {
      await run(session, "set standard_conforming_strings = off", "VariableSetStmt", false);
      await read(session, "select 1", {
        beforeStatement: async (_i, query) => {
          await query(`explain (verbose, costs off, format json) ${smuggled}`).catch(() => undefined);
        },
      });
      const [row] = await target`select count(*)::int as n from notes where id = 9`;
      expect(row?.n).toBe(0);
    } finally {
      await target`delete from notes where id = 9`;
      await session.close();
    }
  });

  it.each([
    ["a SET", "set standard_conforming_strings = off"],
    // a read that changes the setting for the session (set_config runs in a read-only transaction too)
    ["a read calling set_config", "select set_config('standard_conforming_strings', 'off', false)"],
  ])(
    "does not let the target split a COPY ... FROM STDIN either, the setting changed by %s (refused, nothing runs)",
    async (_how, setting) => {
      const session = await open();
      // For the classifier one COPY with a WHERE of literals; under standard_conforming_strings off, a COPY then an
      // INSERT, which a simple Query (how postgres.js starts a COPY) would run once the copy ended.
      const smuggled =
        "copy notes from stdin where body = 'a\\' and body <> '; insert into notes values (9, $$smuggled$$); -- '";
      try {
        await run(session, setting, "VariableSetStmt", false);
        const copy = await session.copyIn(smuggled).catch((err: Error) => err);
        expect(copy).toBeInstanceOf(Error);
        if (!(copy instanceof Error)) await copy.end().catch(() => undefined);
        const [row] = await target`select count(*)::int as n from notes where id = 9`;
        expect(row?.n).toBe(0);
      } finally {
        await target`delete from notes where id = 9`;
        await session.close();
      }
    },
  );

  it("does not let a pooled read-only session split a read either (the HTTP path)", async () => {
    // The same split on a pooled read-only session: after the smuggled COMMIT a new transaction starts read-only
    // by default, but at its top level, before any query, read-write mode may still be asked for.
    const { runStatements } = await import("./postgres");
    const smuggled =
      "select 'a\\' , ' ; commit; set transaction_read_only = off; insert into notes values (9, $$smuggled$$); -- '";
    try {
      await runStatements(gateway.connectionId, ["set standard_conforming_strings = off", smuggled], {
        rowLimit: 100,
        throughCursor: () => false,
        readOnly: true,
        statementKinds: ["VariableSetStmt", "SelectStmt"],
      });
      const [row] = await target`select count(*)::int as n from notes where id = 9`;
      expect(row?.n).toBe(0);
    } finally {
      await target`delete from notes where id = 9`;
    }
  });

  it.each([
    ["without parameters (one message)", "select g from generate_series(1, 50) g", undefined],
    ["with parameters (extended protocol)", "select g from generate_series(1, $1::int) g", ["50"]],
  ])(
    "keeps rows up to the limit, says the rest was cut, and leaves the session idle: %s",
    async (_w, text, parameters) => {
      const session = await open();
      try {
        const { result, error } = await read(session, text, {
          rowLimit: 10,
          ...(parameters && { parameters }),
        });
        expect(error).toBeUndefined();
        expect(result?.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));
        expect([result?.rowCount, result?.truncated]).toEqual([10, true]);
        await session.sql.unsafe("select 1"); // after the scope's end, if one was sent and not waited for
        expect(session.tap.status).toBe("I");
      } finally {
        await session.close();
      }
    },
  );

  it("follows the target's status through a failed read: idle stays idle, a transaction fails as it would", async () => {
    const session = await open();
    try {
      expect((await read(session, "select 1 / 0")).error?.sqlState).toBe("22012");
      expect(session.tap.status).toBe("I");
      expect((await read(session, "select 2 as two")).result?.rows).toEqual([[2]]);
      await control(session, "begin");
      expect((await read(session, "select 1 / 0")).error?.sqlState).toBe("22012");
      expect(session.tap.status).toBe("E");
      expect((await read(session, "select 3")).error?.sqlState).toBe("25P02");
      await control(session, "rollback");
      expect((await read(session, "select 4 as four")).result?.rows).toEqual([[4]]);
    } finally {
      await session.close();
    }
  });
});
