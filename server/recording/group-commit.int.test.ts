// Group commit on both stores (the embedded PGlite and a real PostgreSQL): concurrent appends share transactions
// and every one of them is stored, in its place in its session's hash chain, each chain verifying; a write alone
// goes alone; a write that cannot be stored fails alone while the others of its batch are kept; a refused resume in
// a batch is refused to its caller only.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type PostgresServer, startPostgres } from "@/test/harness/postgres";

const owner = {
  id: "user-1",
  kind: "person",
  email: "owner@example.com",
  groups: [],
} as unknown as Principal;
const other = {
  id: "user-2",
  kind: "person",
  email: "other@example.com",
  groups: [],
} as unknown as Principal;
const connection = { id: "conn-1", name: "shop" };

let dataDir: string;
let pg: PostgresServer | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-group-commit-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const stores: [string, () => Promise<void>][] = [
  [
    "the embedded PGlite store",
    async () => {
      const { installStore, openStore } = await import("@/db/store");
      installStore(await openStore({ dataDir }));
    },
  ],
  [
    "an external PostgreSQL store",
    async () => {
      const { getStore, installStore, openStore } = await import("@/db/store");
      await (await getStore()).close();
      pg = await startPostgres();
      installStore(await openStore({ databaseUrl: pg.url, dataDir }));
    },
  ],
];

describe.each(stores)("group commit on %s", (name, open) => {
  beforeAll(open, 120_000);

  it("stores every one of many concurrent appends, in call order per session, sharing commits, each chain verifying", async () => {
    const { appendSessionEvent, getSessionWithEvents, groupCommitStats, startSessionWithEvent } =
      await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const SESSIONS = 6;
    const EACH = 30;
    const started = await Promise.all(
      Array.from({ length: SESSIONS }, (_, s) =>
        startSessionWithEvent(owner, connection, "sql", "api", {
          type: "statement",
          data: { input: `select ${s}`, i: 0 },
          counters: { statements: 1, allowed: 1 },
        }),
      ),
    );
    const before = groupCommitStats();
    // Fired without waiting: the appends of all sessions interleave, as concurrent requests' do.
    const appends: Promise<number>[] = [];
    for (let i = 1; i <= EACH; i++)
      for (const { sessionId } of started)
        appends.push(
          appendSessionEvent(sessionId, "result", { i, rows: [[`it's ${i}`]] }, { maskedFields: 1 }),
        );
    const ids = await Promise.all(appends);
    expect(new Set(ids).size).toBe(SESSIONS * EACH);
    const after = groupCommitStats();
    expect(after.writes - before.writes).toBe(SESSIONS * EACH);
    // Fewer commits than writes: they were grouped.
    expect(after.commits - before.commits).toBeLessThan(SESSIONS * EACH);
    expect(after.largest).toBeGreaterThan(1);

    for (const { sessionId } of started) {
      const recorded = await getSessionWithEvents(sessionId);
      expect(recorded?.events.map((e) => [e.seq, e.data.i])).toEqual(
        Array.from({ length: EACH + 1 }, (_, i) => [i + 1, i]),
      );
      expect(recorded?.session).toMatchObject({ eventSeq: EACH + 1, maskedFields: EACH, statements: 1 });
      expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: EACH + 1 });
    }
  });

  it("stores hostile text in a batch exactly as given (arguments written as literals cannot escape them)", async () => {
    const { appendSessionEvent, getSessionWithEvents, startSessionWithEvent } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1" },
    });
    const hostile = [
      "it's",
      "\\' ); delete from session_events; --",
      "E'\\\\'",
      "$1 $$ $tag$ ::jsonb",
      "back\\slash\\",
      "'; select pg_sleep(10); --",
      "ünïcödé 🐘 \u2028",
    ];
    const ids = await Promise.all(hostile.map((text) => appendSessionEvent(sessionId, "result", { text })));
    expect(new Set(ids).size).toBe(hostile.length);
    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.events.slice(1).map((e) => e.data.text)).toEqual(hostile);
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: hostile.length + 1 });
  });

  it("stores hostile text, in values and in keys, written alone exactly as given, and the chain verifies", async () => {
    const { appendSessionEvent, getSessionWithEvents, groupCommitStats, startSessionWithEvent } =
      await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1" },
    });
    const hostile = [
      "it's",
      '"}, "x": 1, "',
      "\\' ); delete from session_events; --",
      "$1 $$ ::jsonb",
      "🐘 \u2028",
    ];
    const before = groupCommitStats();
    // One at a time: each write finds the store idle and goes alone (the lone-write path, not a batch).
    for (const text of hostile)
      await appendSessionEvent(sessionId, "result", { text, [text]: [text, { [text]: 1 }] });
    const after = groupCommitStats();
    expect(after.writes - before.writes).toBe(hostile.length);
    expect(after.commits - before.commits).toBe(hostile.length);
    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.events.slice(1).map((e) => e.data)).toEqual(
      hostile.map((text) => ({ text, [text]: [text, { [text]: 1 }] })),
    );
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: hostile.length + 1 });
  });

  it("commits a write that finds the store idle alone, in one commit of its own", async () => {
    const { appendSessionEvent, groupCommitStats, startSessionWithEvent } = await import("./index");
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1" },
    });
    const before = groupCommitStats();
    await appendSessionEvent(sessionId, "result", { rowCount: 1 });
    const after = groupCommitStats();
    expect([after.commits - before.commits, after.writes - before.writes]).toEqual([1, 1]);
  });

  it("fails only the write that cannot be stored; the others of its batch are kept and the chain verifies", async () => {
    const { appendSessionEvent, getSessionWithEvents, startSessionWithEvent } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1", i: 0 },
    });
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4, 5, 6].map((i) =>
        appendSessionEvent(
          sessionId,
          "result",
          // jsonb refuses a NUL character: this event cannot be stored on either store.
          i === 3 ? { i, rows: [["a\u0000b"]] } : { i },
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.events.map((e) => [e.seq, e.data.i])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 4],
      [5, 5],
      [6, 6],
    ]);
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 6 });
  });

  it("refuses a foreign resume inside a batch to its caller alone", async () => {
    const { appendSessionEvent, getSessionWithEvents, startSessionWithEvent } = await import("./index");
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 1" },
    });
    const resume = (principal: Principal) =>
      appendSessionEvent(
        sessionId,
        "statement",
        { input: "select 2" },
        { statements: 1 },
        {
          principal,
          connectionId: connection.id,
        },
      );
    const outcomes = await Promise.allSettled([resume(owner), resume(other), resume(owner)]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]).toMatchObject({ reason: { status: 404 } });
    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.session).toMatchObject({ eventSeq: 3, statements: 2 });
  });

  it.runIf(name.includes("PostgreSQL"))(
    "keeps every acknowledged append when the store's connections are dropped mid-batch, acknowledges none it did not store, and records again afterwards",
    async () => {
      const { appendSessionEvent, startSessionWithEvent } = await import("./index");
      const { verifySession } = await import("@/server/integrity");
      const { default: postgres } = await import("postgres");
      if (!pg) throw new Error("no PostgreSQL store");
      const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        const SESSIONS = 8;
        const started = await Promise.all(
          Array.from({ length: SESSIONS }, (_, s) =>
            startSessionWithEvent(owner, connection, "sql", "native", {
              type: "statement",
              data: { input: `select ${s}`, n: 0 },
            }),
          ),
        );
        // Each session appends in a loop, as a native client does, until its appends are refused.
        const acknowledged: { sessionId: string; id: number; n: number }[] = [];
        let refused = 0;
        let stop = false;
        const loops = started.map(async ({ sessionId }) => {
          for (let n = 1; !stop && n < 10_000; n++) {
            try {
              const id = await appendSessionEvent(sessionId, "result", { n, rows: [[`row ${n}`]] });
              acknowledged.push({ sessionId, id, n });
            } catch {
              refused += 1;
            }
          }
        });
        // Once batches are flowing, every connection of the store's database is killed, twice.
        for (let kill = 0; kill < 2; kill++) {
          const from = acknowledged.length;
          while (acknowledged.length < from + 200) await new Promise((r) => setTimeout(r, 5));
          await admin`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()`;
        }
        const beforeStop = acknowledged.length;
        while (acknowledged.length < beforeStop + 100) await new Promise((r) => setTimeout(r, 5));
        stop = true;
        await Promise.all(loops);
        expect(refused).toBeGreaterThan(0);

        const stored = await admin<{ id: string; session_id: string; n: number | null }[]>`
        select id, session_id, (data->>'n')::int as n from session_events
        where session_id in ${admin(started.map((s) => s.sessionId))}`;
        const byId = new Map(stored.map((row) => [Number(row.id), row]));
        // No acknowledged append is missing, and each acknowledged id holds that append.
        const missing = acknowledged.filter(
          (a) => byId.get(a.id)?.session_id !== a.sessionId || byId.get(a.id)?.n !== a.n,
        );
        expect(missing).toEqual([]);
        // After the drops the recorder stores again: the loops acknowledged appends after the second kill.
        expect(acknowledged.length).toBeGreaterThanOrEqual(beforeStop + 100);
        for (const { sessionId } of started)
          expect(await verifySession(sessionId)).toMatchObject({ ok: true });
      } finally {
        await admin.end();
      }
    },
    60_000,
  );
});
