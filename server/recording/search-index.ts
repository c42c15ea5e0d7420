/**
 * The search indexer (decision 0026): copies the text of statement and command events into session_search, whose
 * trigram index serves the sessions list's text search, so an append no longer maintains that index. It follows
 * session_events by id in batches off the request path (at start-up, then every INDEX_MS) and keeps a durable
 * watermark (access_rollup_state, id "session_search"): every event at or below it is indexed, and a search reads
 * the events above it directly (sessions-query.ts), so a search never misses an event, indexed yet or not.
 *
 * The watermark only passes ids that are settled. Ids come from a sequence, so an append can take an id and
 * commit after a later one did: before indexing up to the sequence's last value, the indexer waits for every
 * transaction that held session_events for writing when it read that value (as CREATE INDEX CONCURRENTLY does);
 * after that no event can still appear at or below it. Each batch is one statement that locks the watermark's
 * row, so replicas indexing the same store at once take turns and index each event once.
 *
 * A store migrated with events starts with an empty table (migration 0020) and the indexer backfills it; until it
 * has caught up, searches of the events above the watermark use the trigram index appends maintained before, which
 * the indexer drops once it has caught up.
 *
 * Not responsible for the events, their hash chain or their verification (session_search is not part of the
 * record: the chain covers session_events alone), nor for searching (sessions-query.ts).
 */
import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf } from "@/db/rows";
import { type Db, getDb } from "@/db/store";

/** The watermark's row in access_rollup_state. */
export const SEARCH_STATE_ID = "session_search";
/** How often a running console indexes what was recorded since. */
const INDEX_MS = 1_000;
/** Event ids covered by one indexing statement (on the embedded store, the console's thread is busy that long). */
const BATCH_IDS = 2_000;
/** The trigram index appends maintained before migration 0020; searches use it until the backfill is done. */
const SUPERSEDED_INDEX = "session_events_text_trgm_idx";
/** Stores where the superseded index is known to be gone. */
const supersededGone = new WeakSet<object>();
/** How long a pass waits for appends in flight to settle before leaving the watermark where it is. */
const SETTLE_WAIT_MS = 5_000;
const SETTLE_POLL_MS = 5;

const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/** Transactions (virtual ids) holding session_events for writing: every one, or only those among `among`. */
async function tableWriters(db: Db, among?: string[]): Promise<string[]> {
  const result = await db.execute(sql`select distinct virtualtransaction as vxid from pg_locks
    where locktype = 'relation' and relation = 'session_events'::regclass and mode = 'RowExclusiveLock'
      and virtualtransaction is not null
      ${
        among
          ? sql`and virtualtransaction in (${sql.join(
              among.map((v) => sql`${v}`),
              sql`, `,
            )})`
          : sql``
      }`);
  return rowsOf<{ vxid: string }>(result).map((r) => r.vxid);
}

/** The sequence's last event id (0 before the first event). */
async function lastEventId(db: Db): Promise<number> {
  const [seq] = rowsOf<{ last: string | number | null }>(
    await db.execute(sql`select pg_sequence_last_value('session_events_id_seq'::regclass) as last`),
  );
  return toNumber(seq?.last);
}

/**
 * Whether every event at or below `last` (read from the sequence before this call) is settled: committed, or
 * never to be (its transaction rolled back). An append locks the table (row exclusive) before it takes an id and
 * keeps the lock until it ends, so every transaction that may still commit an id at or below `last` holds that
 * lock now: this waits for those (not for later ones) up to `waitMs`.
 */
async function waitForWriters(db: Db, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (let waiting = await tableWriters(db); waiting.length > 0; waiting = await tableWriters(db, waiting)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
  return true;
}

/**
 * The highest event id at or below which every event is settled (committed, or never to be), for whoever follows
 * session_events by id (this indexer, the access review's rollup): the sequence's last value once every
 * transaction that was appending when it was read has ended; null when they did not end within `waitMs` (then a
 * follower leaves its watermark where it is and tries again later).
 */
export async function settledEventId(db: Db, waitMs = SETTLE_WAIT_MS): Promise<number | null> {
  const upTo = await lastEventId(db);
  return (await waitForWriters(db, waitMs)) ? upTo : null;
}

/**
 * Indexes the events above the watermark up to `upTo` (settled ids only), one batch of BATCH_IDS ids at most,
 * and moves the watermark. Returns the events it indexed and the watermark after it. Safe on several replicas at
 * once: the watermark's row is locked by the statement, and an id range is indexed by whoever moves it.
 */
export async function indexSearchBatch(
  db: Db,
  upTo: number,
  batchIds = BATCH_IDS,
): Promise<{ indexed: number; watermark: number }> {
  const [row] = rowsOf<{ indexed: number | string; watermark: number | string }>(
    await db.execute(sql`
      with state as (
        select last_event_id as w from access_rollup_state where id = ${SEARCH_STATE_ID} for update
      ), span as (
        select w, least(w + ${batchIds}::bigint, ${upTo}::bigint) as h from state
      ), added as (
        insert into session_search (event_id, session_id, text)
        select e.id, e.session_id, coalesce(e.data->>'input', e.data->>'command', '')
        from session_events e, span
        where e.id > span.w and e.id <= span.h and e.type in ('statement', 'command')
        on conflict (session_id, event_id) do nothing
        returning 1
      ), moved as (
        update access_rollup_state set last_event_id = span.h, updated_at = now()
        from span where id = ${SEARCH_STATE_ID} and span.h > span.w
        returning last_event_id
      )
      select (select count(*) from added)::int as indexed,
        coalesce((select last_event_id from moved), (select w from state), 0) as watermark`),
  );
  return { indexed: toNumber(row?.indexed), watermark: toNumber(row?.watermark) };
}

/** The watermark (every event at or below it is in session_search); null when its row is missing. */
export async function searchWatermark(db: Db): Promise<number | null> {
  const [row] = rowsOf<{ w: number | string }>(
    await db.execute(sql`select last_event_id as w from access_rollup_state where id = ${SEARCH_STATE_ID}`),
  );
  return row ? toNumber(row.w) : null;
}

export interface IndexerOptions {
  /** the store (default: the process's) */
  db?: Db;
  /** stop after this many batches (a backfill stopped half way) */
  maxBatches?: number;
  /** event ids per batch */
  batchIds?: number;
  /** how long to wait for appends in flight before leaving the watermark where it is */
  settleWaitMs?: number;
}

/**
 * One indexer pass: indexes every settled event above the watermark, batch by batch. Returns the events indexed.
 * A pass with nothing new only reads.
 */
export async function indexSearchText(options: IndexerOptions = {}): Promise<number> {
  const db = options.db ?? (await getDb());
  const watermark = await searchWatermark(db);
  const upTo = await lastEventId(db);
  if (upTo <= (watermark ?? 0)) {
    if (watermark !== null) await dropSupersededIndex(db);
    return 0;
  }
  // Written by migration 0020; a store that lost the row starts again from the first event.
  if (watermark === null)
    await db.execute(sql`insert into access_rollup_state (id, last_event_id) values (${SEARCH_STATE_ID}, 0)
      on conflict (id) do nothing`);
  if (!(await waitForWriters(db, options.settleWaitMs ?? SETTLE_WAIT_MS))) return 0;
  let indexed = 0;
  let reached = watermark ?? 0;
  for (let batch = 0; batch < (options.maxBatches ?? Number.POSITIVE_INFINITY); batch++) {
    const step = await indexSearchBatch(db, upTo, options.batchIds);
    indexed += step.indexed;
    // Done, or another replica is past this pass's end (or the watermark's row is gone): stop.
    const isStuck = step.watermark <= reached;
    reached = Math.max(reached, step.watermark);
    if (reached >= upTo || isStuck) break;
  }
  if (reached >= upTo) await dropSupersededIndex(db);
  return indexed;
}

/**
 * Once the search table has caught up, appends stop maintaining the earlier trigram index: dropped concurrently
 * (waiting for transactions that use it without holding up appends), once per store and process.
 */
async function dropSupersededIndex(db: Db) {
  if (supersededGone.has(db)) return;
  const [found] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from pg_class where relname = ${SUPERSEDED_INDEX}
      and relkind = 'i' and relnamespace = current_schema()::regnamespace`),
  );
  if ((found?.n ?? 0) > 0) await db.execute(sql.raw(`drop index concurrently if exists ${SUPERSEDED_INDEX}`));
  supersededGone.add(db);
}

/** Runs the indexer now, then every INDEX_MS, one pass at a time. Returns the stop function. */
export function startSearchIndexer(): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return;
    running = indexSearchText()
      .catch((err: unknown) => {
        // The search stays complete (it reads what is not indexed yet); it only gets slower until the next pass.
        console.error(`[portcullis] indexing recorded text for search failed: ${(err as Error).message}`);
      })
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, INDEX_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
