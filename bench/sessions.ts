/**
 * The sessions list at scale: seeds 100,000 sessions (SQL and terminal, 200 people, 20 connections, a year of
 * start times; some native, with their client's first event; some failed, a few lost with their process) with
 * 3 statements and 3 results or 3 commands each (500,000 events), then times the list
 * query (server/recording/sessions-query.ts) for the default view, a deep page (offset and cursor), a
 * member's own view, and each filter. Median of 5 runs per query. The seeded events are not in the text search's
 * table yet (decision 0026): text searches are timed first as they are during the backfill, then the indexer's
 * backfill, then every query, then text searches again with 2,000 new statements not indexed yet.
 * Store: embedded PGlite in a temporary directory, or a PostgreSQL the test harness starts with --postgres.
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/sessions.ts [-- --sessions 100000 --postgres]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const { values } = parseArgs({
  options: { sessions: { type: "string", default: "100000" }, postgres: { type: "boolean", default: false } },
});
const COUNT = Number(values.sessions);
/** A page half way down the list (page 1,000 of 2,000 with 100,000 sessions). */
const DEEP = Math.max(2, Math.floor(COUNT / 100));

const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-sessions-"));
process.env.DATA_DIR = dataDir;
const pg = values.postgres ? await startPostgres() : undefined;
if (pg) process.env.DATABASE_URL = await createDatabase(pg.url, "store");
else delete process.env.DATABASE_URL;

const { getDb, getStore } = await import("@/db/store");
const { indexSearchText, parseSessionFilters, querySessions } = await import("@/server/recording");
type Principal = import("@/server/principal").Principal;

const person = (id: string, role: Principal["role"]): Principal => ({
  id,
  email: `${id}@example.com`,
  name: id,
  role,
  kind: "person",
  groups: [],
  via: "session",
});
const auditor = person("auditor", "admin");
const member = person("u-7", "member");

async function seed() {
  const db = await getDb();
  const started = performance.now();
  await db.execute(sql`
    insert into sessions (id, principal_id, principal_label, principal_kind, connection_id, connection_name, kind,
      channel, state, started_at, last_activity_at, ended_at, statements, allowed, held, blocked, masked_fields)
    select 's-' || g, 'u-' || (g % 200), 'user' || (g % 200) || '@example.com', 'person', 'c-' || (g % 20),
      'conn-' || (g % 20), case when g % 5 = 0 then 'terminal' else 'sql' end,
      case when g % 5 = 0 then 'terminal' when g % 7 = 0 then 'native' when g % 3 = 0 then 'api' else 'editor' end,
      case when g % 11 = 0 then 'failed' else 'ended' end,
      now() - make_interval(secs => g * 300), now() - make_interval(secs => g * 300 - 60),
      now() - make_interval(secs => g * 300 - 60), 3, 3 - (g % 97 = 0)::int - (g % 89 = 0)::int,
      (g % 89 = 0)::int, (g % 97 = 0)::int, g % 7
    from generate_series(1, ${COUNT}) g`);
  await db.execute(sql`
    insert into session_events (session_id, type, data)
    select 's-' || g, 'statement', jsonb_build_object('input',
      'select id, email from customers where id = ' || (g * 10 + k), 'decision', 'allow', 'class', 'read')
    from generate_series(1, ${COUNT}) g, generate_series(1, 3) k where g % 5 <> 0`);
  await db.execute(sql`
    insert into session_events (session_id, type, data)
    select 's-' || g, 'result', jsonb_build_object('status', 'done', 'results', jsonb_build_array(
      jsonb_build_object('columns', jsonb_build_array(jsonb_build_object('name', 'id'),
        jsonb_build_object('name', case when g % 10 = 1 then 'ssn' else 'email' end)))))
    from generate_series(1, ${COUNT}) g, generate_series(1, 3) k where g % 5 <> 0`);
  await db.execute(sql`
    insert into session_events (session_id, type, data)
    select 's-' || g, 'command', jsonb_build_object('t', k, 'command', 'tail -n 100 /var/log/app-' || g || '.log',
      'decision', 'allow')
    from generate_series(1, ${COUNT}) g, generate_series(1, 3) k where g % 5 = 0`);
  // Native clients' first event (the list shows their application name and address), and the notice that closed
  // a session lost with its console process (the list says so).
  await db.execute(sql`
    insert into session_events (session_id, seq, type, data)
    select 's-' || g, 1, 'connect', jsonb_build_object('applicationName', 'psql', 'clientAddress', '10.0.0.' || (g % 250))
    from generate_series(1, ${COUNT}) g where g % 5 <> 0 and g % 7 = 0`);
  await db.execute(sql`
    insert into session_events (session_id, type, data)
    select 's-' || g, 'notice', jsonb_build_object('level', 'error', 'lost', true, 'message', 'lost')
    from generate_series(1, ${COUNT}) g where g % 22 = 0`);
  await db.execute(sql`analyze sessions`);
  await db.execute(sql`analyze session_events`);
  console.log(`seeded ${COUNT} sessions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function time(label: string, principal: Principal, raw: Record<string, string>) {
  const filters = parseSessionFilters(raw);
  const samples: number[] = [];
  let found = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const page = await querySessions(principal, filters);
    samples.push(performance.now() - started);
    found = page.sessions.length;
  }
  const median = [...samples].sort((a, b) => a - b)[2] ?? Number.NaN;
  console.log(`| ${label} | ${found} | ${median.toFixed(1)} ms |`);
}

async function timeTextSearches(when: string) {
  await time(`text, common (\`customers\`), ${when}`, auditor, { q: "customers" });
  await time(`text, rare (\`id = 123461\`, one session), ${when}`, auditor, { q: "id = 123461" });
  await time(`text, absent, ${when}`, auditor, { q: "no such text" });
}

try {
  await seed();
  console.log(`| query (${pg ? "PostgreSQL" : "PGlite"}) | rows | p50 |`);
  console.log("| --- | --- | --- |");
  await timeTextSearches("before the backfill");
  const backfill = performance.now();
  const indexed = await indexSearchText();
  console.log(
    `indexer backfill: ${indexed} statements and commands in ${((performance.now() - backfill) / 1000).toFixed(1)} s`,
  );
  const deep = await querySessions(auditor, parseSessionFilters({ page: String(DEEP) }));
  const cursor = (await querySessions(auditor, parseSessionFilters({ page: String(DEEP - 1) }))).nextCursor;
  await time("default view (everyone's, newest first)", auditor, {});
  await time(`page ${DEEP} by offset`, auditor, { page: String(DEEP) });
  await time(`page ${DEEP} by cursor`, auditor, { before: cursor ?? "" });
  if (
    deep.sessions[0]?.id !==
    (await querySessions(auditor, parseSessionFilters({ before: cursor ?? "" }))).sessions[0]?.id
  )
    throw new Error("the cursor page differs from the offset page");
  await time("a member's own sessions", member, {});
  await time("user contains", auditor, { user: "user7@" });
  await time("connection", auditor, { connection: "conn-3" });
  await time("kind terminal", auditor, { kind: "terminal" });
  await time("channel native (client shown per row)", auditor, { channel: "native" });
  await time("has blocked (1 in 97)", auditor, { decision: "blocked" });
  await time("text, common (`customers`)", auditor, { q: "customers" });
  await time("text, rare (`id = 123461`, one session)", auditor, { q: "id = 123461" });
  await time("text, absent", auditor, { q: "no such text" });
  await time("touched column, common (`email`)", auditor, { column: "email" });
  await time("touched column, rare (`ssn`, 1 in 10)", auditor, { column: "ssn" });
  await time("touched column, absent", auditor, { column: "passport" });
  await (await getDb()).execute(sql`
    insert into session_events (session_id, type, data)
    select 's-' || g, 'statement', jsonb_build_object('input', 'select id, email from customers where id = -' || g)
    from generate_series(1, 2000) g`);
  await timeTextSearches("2,000 statements not indexed yet");
} finally {
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
