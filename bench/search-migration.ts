/**
 * How long migration 0020 (the text search's table, decision 0026) takes on a big store: a store is migrated up to
 * 0019, seeded with sessions of 3 statements and 3 results (or 3 commands) each, then opened again with every
 * migration, which runs 0020 alone (the backfill of session_search, its indexes, the old index dropped). Prints the
 * seeding, the open with 0020 and, for scale, an open with nothing to migrate.
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/search-migration.ts
 *   [-- --sessions 200000 --postgres]   (200,000 sessions: 1,000,000 events)
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/rows";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const { values } = parseArgs({
  options: { sessions: { type: "string", default: "200000" }, postgres: { type: "boolean", default: false } },
});
const COUNT = Number(values.sessions);
const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-search-migration-"));
process.env.DATA_DIR = dataDir;
const pg = values.postgres ? await startPostgres() : undefined;
const databaseUrl = pg ? await createDatabase(pg.url, "store") : undefined;

// Every migration before 0020, in a folder of its own.
const before = path.join(dataDir, "migrations-0019");
cpSync(path.resolve("db/migrations"), before, { recursive: true });
rmSync(path.join(before, "0020_session_search.sql"));
const journalPath = path.join(before, "meta/_journal.json");
const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
journal.entries = journal.entries.filter((e) => e.tag !== "0020_session_search");
writeFileSync(journalPath, JSON.stringify(journal));

const { openStore } = await import("@/db/store");
const { migrate: migratePglite } = await import("drizzle-orm/pglite/migrator");
const { migrate: migratePostgres } = await import("drizzle-orm/postgres-js/migrator");

const seconds = (from: number) => ((performance.now() - from) / 1000).toFixed(1);

try {
  // The store at 0019, built by the drivers' migrators on the trimmed folder.
  {
    const started = performance.now();
    const store = await openStoreAt(before);
    const db = store.db;
    await db.execute(sql`
      insert into sessions (id, principal_id, principal_label, principal_kind, connection_id, connection_name,
        kind, channel, state, started_at, last_activity_at, ended_at)
      select 's-' || g, 'u-' || (g % 200), 'user' || (g % 200) || '@example.com', 'person', 'c-' || (g % 20),
        'conn-' || (g % 20), case when g % 5 = 0 then 'terminal' else 'sql' end,
        case when g % 5 = 0 then 'terminal' else 'editor' end, 'ended',
        now() - make_interval(secs => g * 300), now(), now()
      from generate_series(1, ${COUNT}) g`);
    await db.execute(sql`
      insert into session_events (session_id, type, data)
      select 's-' || g, case when k % 2 = 1 then 'statement' else 'result' end,
        case when k % 2 = 1 then jsonb_build_object('input',
          'select id, email from customers where id = ' || (g * 10 + k), 'decision', 'allow', 'class', 'read')
        else jsonb_build_object('status', 'done', 'results', jsonb_build_array(jsonb_build_object('columns',
          jsonb_build_array(jsonb_build_object('name', 'id'))))) end
      from generate_series(1, ${COUNT}) g, generate_series(1, 6) k where g % 5 <> 0
      order by g, k`);
    await db.execute(sql`
      insert into session_events (session_id, type, data)
      select 's-' || g, 'command', jsonb_build_object('t', k, 'command', 'tail -n 100 /var/log/app-' || g || '.log')
      from generate_series(1, ${COUNT}) g, generate_series(1, 3) k where g % 5 = 0`);
    const [n] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from session_events`));
    console.log(`seeded ${COUNT} sessions at 0019 in ${seconds(started)} s (${n?.n} events)`);
    await store.close();
  }
  {
    const started = performance.now();
    const store = await openStore({ databaseUrl, dataDir });
    const opened = seconds(started);
    const rows = await store.db.execute(sql`select
      (select count(*)::int from session_search) as searched,
      (select last_event_id from access_rollup_state where id = 'session_search') as watermark`);
    console.log(`| ${pg ? "PostgreSQL" : "PGlite"} | open with 0020: ${opened} s | ${JSON.stringify(rows)}`);
    await store.close();
  }
  {
    const started = performance.now();
    const store = await openStore({ databaseUrl, dataDir });
    console.log(`| ${pg ? "PostgreSQL" : "PGlite"} | open, nothing to migrate: ${seconds(started)} s |`);
    await store.close();
  }
} finally {
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

/** A store migrated with the migrations of `folder` only. */
async function openStoreAt(folder: string) {
  if (databaseUrl) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const db = drizzle(client);
    await migratePostgres(db, { migrationsFolder: folder });
    return { db, close: () => client.end() };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const pglite = await PGlite.create(path.join(dataDir, "store"), { extensions: { pg_trgm } });
  const db = drizzle(pglite);
  await migratePglite(db, { migrationsFolder: folder });
  return { db, close: () => pglite.close() };
}
