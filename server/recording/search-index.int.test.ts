// The sessions list's text search with its table filled off the append's path (decision 0026), on both stores
// (the embedded PGlite, a real PostgreSQL): a statement is found right after it ran (before the indexer passed),
// after the indexer caught up, and across a restart mid-backfill; what the search table says does not change what
// verification says; two indexers at once index each event once; an append that takes its id before a later one
// commits is not skipped (PostgreSQL); and what is searched is what is recorded (masked), nothing else.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/db/rows";
import type { Principal } from "@/server/principal";
import { type PostgresServer, startPostgres } from "@/test/harness/postgres";

const admin = {
  id: "u-admin",
  email: "admin@example.com",
  name: "admin",
  role: "admin",
  kind: "person",
  groups: [],
  via: "session",
} as Principal;
const connection = { id: "conn-1", name: "shop" };

let dataDir: string;
let pg: PostgresServer | undefined;
let storeUrl: string | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-search-index-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Opens the store again, as a restarted console does (same data directory or database). */
async function reopenStore() {
  const { getStore, installStore, openStore } = await import("@/db/store");
  await (await getStore()).close();
  installStore(await openStore({ databaseUrl: storeUrl, dataDir }));
}

const stores: [string, boolean, () => Promise<void>][] = [
  [
    "the embedded PGlite store",
    false,
    async () => {
      const { installStore, openStore } = await import("@/db/store");
      installStore(await openStore({ dataDir }));
    },
  ],
  [
    "an external PostgreSQL store",
    true,
    async () => {
      const { getStore, installStore, openStore } = await import("@/db/store");
      await (await getStore()).close();
      pg = await startPostgres();
      storeUrl = pg.url;
      installStore(await openStore({ databaseUrl: storeUrl, dataDir }));
    },
  ],
];

async function db() {
  const { getDb } = await import("@/db/store");
  return getDb();
}

async function query<T>(text: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await (await db()).execute(text));
}

/** The sessions the list shows for a text search, as an admin sees them. */
async function searchFor(text: string): Promise<string[]> {
  const { parseSessionFilters, querySessions } = await import("./index");
  const page = await querySessions(admin, parseSessionFilters({ q: text }));
  return page.sessions.map((s) => s.id).sort();
}

async function watermark(): Promise<number> {
  const [row] = await query<{ w: string | number }>(
    sql`select last_event_id as w from access_rollup_state where id = 'session_search'`,
  );
  return Number(row?.w ?? -1);
}

async function searchRowsFor(eventIds: number[]): Promise<{ event_id: string | number; text: string }[]> {
  return query(
    sql`select event_id, text from session_search where event_id in (${sql.join(
      eventIds.map((id) => sql`${id}`),
      sql`, `,
    )}) order by event_id`,
  );
}

/** A session with one statement per text; returns the session and its statement events' ids. */
async function recordStatements(texts: string[]): Promise<{ sessionId: string; eventIds: number[] }> {
  const { appendSessionEvent, startSessionWithEvent } = await import("./index");
  const [first = "select 1", ...rest] = texts;
  const { sessionId, eventId } = await startSessionWithEvent(admin, connection, "sql", "api", {
    type: "statement",
    data: { input: first, decision: "allow" },
    counters: { statements: 1, allowed: 1 },
  });
  const eventIds = [eventId];
  for (const input of rest)
    eventIds.push(
      await appendSessionEvent(sessionId, "statement", { input, decision: "allow" }, { statements: 1 }),
    );
  return { sessionId, eventIds };
}

/** Empties the search table and its watermark: a store whose indexer has yet to backfill everything. */
async function forgetIndex() {
  await query(sql`delete from session_search`);
  await query(sql`update access_rollup_state set last_event_id = 0 where id = 'session_search'`);
}

describe.each(stores)("text search on %s", (_name, isPostgres, open) => {
  beforeAll(open, 120_000);

  it("keeps the earlier trigram index for searches until the backfill has caught up, then drops it", async () => {
    const { indexSearchText } = await import("./index");
    const oldIndex = async () =>
      (
        await query<{ n: number }>(
          sql`select count(*)::int as n from pg_class where relname = 'session_events_text_trgm_idx'`,
        )
      )[0]?.n;
    const { sessionId } = await recordStatements(["select 'one'", "select 'two'", "select 'three_x4'"]);
    expect(await oldIndex()).toBe(1);
    await indexSearchText({ batchIds: 1, maxBatches: 1 });
    expect(await oldIndex()).toBe(1);
    expect(await searchFor("three_x4")).toEqual([sessionId]);
    await indexSearchText();
    expect(await oldIndex()).toBe(0);
    expect(await searchFor("three_x4")).toEqual([sessionId]);
  });

  it("finds a statement right after it ran, before any indexer pass, by reading the events above the watermark", async () => {
    const { indexSearchText } = await import("./index");
    await indexSearchText();
    const { sessionId, eventIds } = await recordStatements(["select * from fresh_invoices_q1x"]);
    expect(await watermark()).toBeLessThan(eventIds[0] ?? 0);
    expect(await searchRowsFor(eventIds)).toEqual([]);
    expect(await searchFor("fresh_invoices_q1x")).toEqual([sessionId]);
  });

  it("finds it through the search table once the indexer caught up", async () => {
    const { indexSearchText } = await import("./index");
    const { sessionId, eventIds } = await recordStatements(["select * from caught_up_orders_z7"]);
    await indexSearchText();
    expect(await watermark()).toBeGreaterThanOrEqual(eventIds[0] ?? Number.POSITIVE_INFINITY);
    expect(await searchRowsFor(eventIds)).toEqual([
      { event_id: expect.anything(), text: "select * from caught_up_orders_z7" },
    ]);
    expect(await searchFor("caught_up_orders_z7")).toEqual([sessionId]);
    // The indexed part is read from the table (not from the events): its text is what the table says.
    const [id] = eventIds;
    await query(sql`update session_search set text = 'select moved_by_hand_k2' where event_id = ${id}`);
    expect(await searchFor("moved_by_hand_k2")).toEqual([sessionId]);
    expect(await searchFor("caught_up_orders_z7")).toEqual([]);
  });

  it("indexes what is recorded while the console runs (the indexer started as the console starts it)", async () => {
    const { startSearchIndexer } = await import("./index");
    const stop = startSearchIndexer();
    try {
      const { eventIds } = await recordStatements(["select 'while_running_r5'"]);
      // The indexer passes every second: wait for it (up to 30 passes), then check what it wrote.
      for (let i = 0; i < 300 && (await searchRowsFor(eventIds)).length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await searchRowsFor(eventIds)).map((r) => r.text)).toEqual(["select 'while_running_r5'"]);
    } finally {
      await stop();
    }
  });

  it("verifies a session the same whatever its search rows say, and still catches a changed event", async () => {
    const { indexSearchText } = await import("./index");
    const { verifySession } = await import("@/server/integrity");
    const { sessionId, eventIds } = await recordStatements(["select 'kept'", "update t set a = 1"]);
    await indexSearchText();
    const before = await verifySession(sessionId);
    expect(before).toMatchObject({ ok: true, events: 2 });
    await query(
      sql`update session_search set text = 'drop table everything' where session_id = ${sessionId}`,
    );
    await query(sql`delete from session_search where event_id = ${eventIds[1]}`);
    expect(await verifySession(sessionId)).toEqual(before);
    // The record itself is what verification reads: changing the event is caught.
    await query(
      sql`update session_events set data = jsonb_set(data, '{input}', '"select 1"') where id = ${eventIds[1]}`,
    );
    expect(await verifySession(sessionId)).toMatchObject({ ok: false });
  });

  it("finds every statement across a restart in the middle of a backfill, and indexes each once", async () => {
    const { indexSearchText } = await import("./index");
    const texts = Array.from({ length: 30 }, (_, i) => `select * from backfill_table_${i}_w`);
    const { sessionId, eventIds } = await recordStatements(texts);
    await forgetIndex();
    // Two batches of 10 ids, then the console stops.
    await indexSearchText({ batchIds: 10, maxBatches: 2 });
    const halfway = await watermark();
    expect(halfway).toBeGreaterThan(0);
    expect(halfway).toBeLessThan(eventIds.at(-1) ?? 0);
    await reopenStore();
    expect(await watermark()).toBe(halfway);
    for (const i of [0, 15, 29]) expect(await searchFor(`backfill_table_${i}_w`)).toEqual([sessionId]);
    await indexSearchText({ batchIds: 10 });
    expect(await watermark()).toBeGreaterThanOrEqual(eventIds.at(-1) ?? Number.POSITIVE_INFINITY);
    for (const i of [0, 15, 29]) expect(await searchFor(`backfill_table_${i}_w`)).toEqual([sessionId]);
    const rows = await searchRowsFor(eventIds);
    expect(rows.map((r) => r.text)).toEqual(texts);
    const [all] = await query<{ rows: number; events: number }>(sql`select
      (select count(*)::int from session_search) as rows,
      (select count(*)::int from session_events where type in ('statement', 'command')) as events`);
    expect(all?.rows).toBe(all?.events);
  });

  it("indexes each event once when two indexers run at once", async () => {
    const { indexSearchText } = await import("./index");
    const { openStore } = await import("@/db/store");
    await recordStatements(Array.from({ length: 40 }, (_, i) => `select twin_${i}`));
    await forgetIndex();
    // A second replica: its own connections to the same store (the embedded store has one opener: same handle).
    const other = storeUrl ? await openStore({ databaseUrl: storeUrl, dataDir }) : undefined;
    try {
      const counts = await Promise.all([
        indexSearchText({ batchIds: 7 }),
        indexSearchText({ batchIds: 7, db: other?.db }),
        indexSearchText({ batchIds: 5 }),
      ]);
      const [all] = await query<{ rows: number; distinct: number; events: number }>(sql`select
        (select count(*)::int from session_search) as rows,
        (select count(distinct event_id)::int from session_search) as distinct,
        (select count(*)::int from session_events where type in ('statement', 'command')) as events`);
      expect(all?.rows).toBe(all?.events);
      expect(all?.distinct).toBe(all?.events);
      // Each event was written by one pass: the passes' counts add up to the events, none counted twice.
      expect(counts.reduce((a, b) => a + b, 0)).toBe(all?.events);
    } finally {
      await other?.close();
    }
  });

  it("searches what is recorded, already masked: no raw secret reaches the search table", async () => {
    const { appendSessionEvent, indexSearchText, startSessionWithEvent } = await import("./index");
    const { defaultMaskingConfig, maskText } = await import("@/server/masking");
    const masking = defaultMaskingConfig("search-index-test-key");
    const card = "4111 1111 1111 1111";
    const email = "ada.lovelace@example.com";
    // A terminal line is recorded masked (server/terminal records maskText's output); a statement's bound
    // parameters are recorded masked and its result's cells masked, beside the statement's own text.
    const line = maskText(`echo ${card} | mail ${email}`, masking).text;
    expect(line).not.toContain(card);
    expect(line).not.toContain(email);
    const { sessionId } = await startSessionWithEvent(
      admin,
      { id: "c-ssh", name: "web-1" },
      "terminal",
      "terminal",
      {
        type: "command",
        data: { t: 1, command: line, decision: "allow" },
        counters: { statements: 1, allowed: 1 },
      },
    );
    const statement = await appendSessionEvent(
      sessionId,
      "statement",
      { input: "select * from cards where number = $1", parameters: [maskText(card, masking).text] },
      { statements: 1 },
    );
    await appendSessionEvent(
      sessionId,
      "result",
      { statementEventId: statement, results: [{ rows: [[maskText(email, masking).text]] }] },
      { maskedFields: 1 },
    );
    await indexSearchText();
    const [leaked] = await query<{ n: number }>(sql`select count(*)::int as n from session_search
      where text like ${`%${card}%`} or text like ${`%${email}%`} or text like '%4111%1111%1111%1111%'`);
    expect(leaked?.n).toBe(0);
    // Every row of the table is exactly the text its event recorded, in the event's session.
    const [differing] = await query<{ n: number }>(sql`select count(*)::int as n from session_search s
      left join session_events e on e.id = s.event_id
      where e.id is null or e.session_id <> s.session_id or e.type not in ('statement', 'command')
        or coalesce(e.data->>'input', e.data->>'command', '') <> s.text`);
    expect(differing?.n).toBe(0);
    expect(await searchFor(card)).toEqual([]);
    expect(await searchFor(email)).toEqual([]);
    expect(await searchFor("from cards where number")).toEqual([sessionId]);
  });

  // PGlite has one connection: an append's transaction and an indexer pass cannot overlap there.
  it.skipIf(!isPostgres)(
    "does not move the watermark past an id whose transaction has not committed yet",
    async () => {
      // The attack: an event takes id X, a later append takes X+1 and commits first. An indexer that moves its
      // watermark to the last visible id passes X, and once X commits no search would ever find it.
      const { indexSearchText } = await import("./index");
      const { default: postgres } = await import("postgres");
      expect(storeUrl).toBeDefined();
      const { sessionId } = await recordStatements(["select 'before'"]);
      await indexSearchText();
      const client = postgres(storeUrl ?? "", { max: 1, onnotice: () => {} });
      try {
        let lateId = 0;
        await client.begin(async (tx) => {
          const [late] = await tx<{ id: string }[]>`insert into session_events (session_id, type, data)
          values (${sessionId}, 'statement', ${tx.json({ input: "select late_committer_v9" })}) returning id`;
          lateId = Number(late?.id);
          const later = await recordStatements(["select 'after'"]);
          expect(later.eventIds[0]).toBeGreaterThan(lateId);
          // The indexer runs while X is in flight: it must not pass X.
          await indexSearchText({ settleWaitMs: 300 });
          expect(await watermark()).toBeLessThan(lateId);
        });
        await indexSearchText();
        expect(await watermark()).toBeGreaterThan(lateId);
        expect((await searchRowsFor([lateId])).map((r) => r.text)).toEqual(["select late_committer_v9"]);
        expect(await searchFor("late_committer_v9")).toEqual([sessionId]);
      } finally {
        await client.end({ timeout: 5 });
      }
    },
  );
});
