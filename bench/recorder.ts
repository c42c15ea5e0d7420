/**
 * The recorder's durable appends under concurrent sessions, on both stores, against a floor on the same store in
 * the same run. For each store (embedded PGlite on the main thread; a real PostgreSQL 15 database with fsync and
 * synchronous_commit on) and each concurrency C (1, 4, 16 by default): C sessions each loop over one native
 * statement's record stage (the statement appended to its own session, guarded as a resumed one, then its result),
 * and the same C loops run a bare `insert ... ` (its own commit, same payload) as the floor. Reports appends/s, p50
 * and p99 per append, commits per append (the group commit's count), and
 * where an append waits: in the queue for the commit before it, or in its own commit, and the process's CPU time
 * (user + system, all its threads; PGlite runs on the main thread) per append.
 * Usage: npm run bench:recorder [-- --seconds 4 --levels 1,4,16 --stores pglite,postgres --rounds 2]
 * [--without-index session_events_session_type_idx,...] (an experiment: the bench's store without those indexes)
 * [--search table|old|old-pending-64mb] how the text search is kept: its own table filled by the search indexer,
 * which runs during the recorder's loops as in the console, its catch-up after them counted in the CPU per append
 * (today, decision 0026); or the earlier trigram index on session_events maintained by every append, with GIN's
 * default pending list (4 MB) or a 64 MB one (measured alternatives); or `alternate`: the old index and the table
 * alternated three times in one process and store.
 * It first measures, in this process's CPU time, an event's JSON and digest as an append prepares them: written once
 * as canonical JSON (today) against the earlier stringify, parse and canonicalise (kept here as the reference),
 * alternated, for a statement, a result and a 256 KiB terminal output event.
 * A CPU profile of the appends alone (the recorder's loops, not the start-up or the floor):
 * npm run bench:recorder -- --stores pglite --rounds 1 --profile /tmp/prof (one .cpuprofile per store and level).
 * Each store and round runs in a process of its own (the store is one per process), floor and recorder alternating.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const NODE_ARGS = ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs"];

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "4" },
    levels: { type: "string", default: "1,4,16" },
    stores: { type: "string", default: "pglite,postgres" },
    rounds: { type: "string", default: "2" },
    /** an experiment: indexes of the bench's own store dropped before measuring (comma-separated names) */
    "without-index": { type: "string", default: "" },
    /** how the text search is kept (see the header) */
    search: { type: "string", default: "table" },
    /** a folder: write a CPU profile of each recorder cell (node:inspector) there */
    profile: { type: "string" },
    /** internal: run one store in this process */
    store: { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const LEVELS = values.levels.split(",").map(Number);

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

/** The statement and result of a one-row native query, as the pipeline records them. */
const STATEMENT = {
  input: "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
  class: "read",
  decision: "allow",
  reasons: [
    {
      statementIndex: 0,
      statement: "SELECT abalance FROM pgbench_accounts WHERE aid = 48213",
      class: "read",
      ruleId: "r1",
      ruleName: "reads",
      action: "allow",
      message: "reads are allowed",
    },
  ],
  status: "running",
};
const result = (statementEventId: number) => ({
  statementEventId,
  status: "done",
  rowCount: 1,
  durationMs: 0.4,
  results: [{ columns: [{ name: "abalance", type: "int4" }], rows: [[0]], masked: [], truncated: false }],
});

interface Run {
  appends: number;
  seconds: number;
  samples: number[];
}

/** C loops, each timing every `op` call for SECONDS. */
async function loops(concurrency: number, op: (worker: number) => Promise<number>): Promise<Run> {
  const samples: number[] = [];
  let appends = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < until) {
        const t = performance.now();
        const n = await op(worker);
        samples.push((performance.now() - t) / n);
        appends += n;
      }
    }),
  );
  samples.sort((a, b) => a - b);
  return { appends, seconds: (performance.now() - started) / 1000, samples };
}

/** Starts the V8 profiler in this process; the function returned stops it and writes the profile to a file. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

async function measureStore(kind: "pglite" | "postgres") {
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-recorder-"));
  process.env.DATA_DIR = dataDir;
  let stopServer: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  if (kind === "postgres") {
    const { createDatabase, startPostgres } = await import("../test/harness/postgres");
    const server = await startPostgres();
    stopServer = () => server.stop();
    // The harness turns durability off for tests; a store is measured as it runs: every commit flushed.
    const { default: postgres } = await import("postgres");
    const admin = postgres(server.url, { max: 1, onnotice: () => {} });
    await admin`alter system set fsync = on`;
    await admin`alter system set synchronous_commit = on`;
    await admin`select pg_reload_conf()`;
    await admin.end();
    databaseUrl = await createDatabase(server.url, "store");
    process.env.DATABASE_URL = databaseUrl;
  }
  const { installStore, openStore } = await import("../db/store");
  const store = await openStore({ dataDir, ...(databaseUrl && { databaseUrl }) });
  installStore(store);
  await store.db.execute("create table bench_floor (id bigserial primary key, data jsonb not null)");
  const search = values.search;
  if (!["table", "old", "old-pending-64mb", "alternate"].includes(search))
    throw new Error(`--search: table, old, old-pending-64mb or alternate`);
  if (search !== "table" && search !== "alternate") {
    // The earlier shape (migration 0010's index, kept by 0020 until the indexer has caught up), maintained by
    // every append.
    await store.db.execute(`create index if not exists session_events_text_trgm_idx on session_events
      using gin ((coalesce(data->>'input', data->>'command', '')) gin_trgm_ops)
      where type in ('statement', 'command')`);
    if (search === "old-pending-64mb")
      await store.db.execute("alter index session_events_text_trgm_idx set (gin_pending_list_limit = 65536)");
  }
  for (const name of values["without-index"].split(",").filter(Boolean)) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`not an index name: ${name}`);
    await store.db.execute(`drop index ${name}`);
  }
  const recording = await import("../server/recording");
  const { appendSessionEvent, groupCommitStats, indexSearchText, startSearchIndexer, startSessionWithEvent } =
    recording;
  const principal = { id: "bench", kind: "person", email: "bench@example.com", groups: [] } as never;
  const connection = { id: "conn", name: "bench" };
  const statementJson = JSON.stringify(STATEMENT);
  const floorInsert = async () => {
    if (store.pglite)
      await store.pglite.query("insert into bench_floor (data) values ($1::jsonb)", [statementJson]);
    else {
      const client = (store.db as unknown as { $client: import("postgres").Sql }).$client;
      await client`insert into bench_floor (data) values (${statementJson}::jsonb)`;
    }
    return 1;
  };
  const lines: string[] = [];
  for (const c of LEVELS) {
    const sessions = await Promise.all(
      Array.from({ length: c }, () =>
        startSessionWithEvent(principal, connection, "sql", "native", {
          type: "notice",
          data: { message: "bench" },
        }),
      ),
    );
    const statement = async (worker: number) => {
      const { sessionId } = sessions[worker] as { sessionId: string };
      const id = await appendSessionEvent(
        sessionId,
        "statement",
        STATEMENT,
        { statements: 1, allowed: 1 },
        {
          principal,
          connectionId: connection.id,
        },
      );
      await appendSessionEvent(sessionId, "result", result(id));
      return 2;
    };
    // warm-up, then floor and recorder
    await loops(c, floorInsert);
    const floor = await loops(c, floorInsert);
    if (search === "alternate") {
      lines.push(...(await alternateSearch(c, floor, statement)));
      continue;
    }
    const before = groupCommitStats();
    const profiler = values.profile ? await startProfile() : undefined;
    if (search === "table") await indexSearchText();
    const cpuBefore = process.cpuUsage();
    const stopIndexer = search === "table" ? startSearchIndexer() : undefined;
    const rec = await loops(c, statement);
    await stopIndexer?.();
    // What the indexer has yet to do for these appends is part of their cost.
    if (search === "table") await indexSearchText();
    const cpu = process.cpuUsage(cpuBefore);
    await profiler?.(path.join(values.profile ?? "", `recorder-${kind}-${c}.cpuprofile`));
    const after = groupCommitStats();
    const writes = after.writes - before.writes;
    const commits = after.commits - before.commits;
    const waits = after.queuedMs - before.queuedMs;
    const inCommit = after.committingMs - before.committingMs;
    const rate = (r: Run) => r.appends / r.seconds;
    lines.push(
      `| ${kind}, ${search} | ${c} | ${rate(floor).toFixed(0)} | ${ms(percentile(floor.samples, 50))} | ${rate(rec).toFixed(0)} | ${ms(
        percentile(rec.samples, 50),
      )} | ${ms(percentile(rec.samples, 99))} | ${(rate(rec) / rate(floor)).toFixed(2)}x | ${(commits / writes).toFixed(2)} | ${ms(waits / writes)} / ${ms(inCommit / writes)} | ${((cpu.user + cpu.system) / rec.appends).toFixed(0)} us |`,
    );
  }
  /**
   * The old index and the search table alternated in this one process and store, three rounds each, so both see
   * the same machine and a table of the same size: CPU per append with the index's upkeep inside the appends,
   * against the appends plus the indexer (during the loops, and its catch-up after them).
   */
  async function alternateSearch(c: number, floor: Run, statement: (worker: number) => Promise<number>) {
    const out: string[] = [];
    for (let round = 1; round <= 3; round++)
      for (const mode of ["old", "table"] as const) {
        if (mode === "old")
          await store.db.execute(`create index if not exists session_events_text_trgm_idx on session_events
            using gin ((coalesce(data->>'input', data->>'command', '')) gin_trgm_ops)
            where type in ('statement', 'command')`);
        else {
          await store.db.execute("drop index if exists session_events_text_trgm_idx");
          await indexSearchText();
        }
        const cpuBefore = process.cpuUsage();
        const stopIndexer = mode === "table" ? startSearchIndexer() : undefined;
        const rec = await loops(c, statement);
        await stopIndexer?.();
        if (mode === "table") await indexSearchText();
        const cpu = process.cpuUsage(cpuBefore);
        const rate = rec.appends / rec.seconds;
        out.push(
          `| ${kind}, ${mode} (round ${round}) | ${c} | ${(floor.appends / floor.seconds).toFixed(0)} | ${ms(percentile(floor.samples, 50))} | ${rate.toFixed(0)} | ${ms(percentile(rec.samples, 50))} | ${ms(percentile(rec.samples, 99))} | ${(rate / (floor.appends / floor.seconds)).toFixed(2)}x | | | ${((cpu.user + cpu.system) / rec.appends).toFixed(0)} us |`,
        );
      }
    return out;
  }
  await store.close();
  await stopServer?.();
  rmSync(dataDir, { recursive: true, force: true });
  for (const line of lines) console.log(line);
}

/** The CPU an append spends on an event's JSON and digest, today's against the earlier way, alternated. */
async function measureEventJson() {
  const { createHash } = await import("node:crypto");
  const { canonicalJson, sessionEventDigestOf } = await import("../server/integrity");
  const { canonicalText } = await import("../server/integrity/hash-chain");
  const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  const at = new Date();
  const sessionId = "0b6f1c9e-4d7a-4c53-9a51-1f2e3d4c5b6a";
  /** the earlier append: stringify for the store, parse it back, canonicalise and hash */
  const before = (type: string, data: unknown) => {
    const json = JSON.stringify(data);
    const digest = sha256(canonicalText({ at: at.toISOString(), data: JSON.parse(json), sessionId, type }));
    return json.length + digest.length;
  };
  const now = (type: string, data: unknown) => {
    const json = canonicalJson(data);
    return json.length + sessionEventDigestOf({ sessionId, type, at }, json).length;
  };
  const output = Array.from({ length: 4096 }, (_, i) => `${i}\tdrwxr-xr-x  app  /srv/data/file-${i}.log\r\n`)
    .join("")
    .slice(0, 256 * 1024);
  const payloads: [string, string, unknown, number][] = [
    ["statement", "statement", STATEMENT, 20_000],
    ["result", "result", result(7), 20_000],
    ["terminal output, 256 KiB", "output", { t: 1234.5, data: output }, 200],
  ];
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  console.log("\n| event | earlier: stringify, parse, canonicalise, hash | one walk | one walk / earlier |");
  console.log("| --- | --- | --- | --- |");
  for (const [label, type, data, n] of payloads) {
    const spent = { before: 0, now: 0 };
    let sink = 0;
    for (let round = 0; round < 6; round++)
      for (const [way, fn] of [
        ["before", before],
        ["now", now],
      ] as const) {
        const t = cpu();
        for (let i = 0; i < n; i++) sink += fn(type, data);
        if (round > 0) spent[way] += cpu() - t; // round 0 warms both up
      }
    const per = (us: number) => us / (5 * n);
    console.log(
      `| ${label} | ${per(spent.before).toFixed(1)} us | ${per(spent.now).toFixed(1)} us | ${(spent.now / spent.before).toFixed(2)}x |${sink < 0 ? "" : ""}`,
    );
  }
}

async function main() {
  if (values.store) return measureStore(values.store === "postgres" ? "postgres" : "pglite");
  await measureEventJson();
  console.log(
    `\nRecorder appends (a native statement: its statement event, then its result) for ${SECONDS} s per cell; floor = a bare insert with its own commit, same payload, same store, same concurrency\n`,
  );
  console.log(
    "| store | sessions | floor, inserts/s | floor p50 | recorder, appends/s | append p50 | append p99 | recorder / floor | commits per append | wait in queue / in commit, per append | process CPU per append |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const store of values.stores.split(",")) {
      const out = execFileSync(
        process.execPath,
        [
          ...NODE_ARGS,
          "bench/recorder.ts",
          "--store",
          store,
          "--seconds",
          String(SECONDS),
          "--levels",
          values.levels,
          ...(values.profile ? ["--profile", path.resolve(values.profile)] : []),
          ...(values["without-index"] ? ["--without-index", values["without-index"]] : []),
          "--search",
          values.search,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
      );
      console.log(out.trim());
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
