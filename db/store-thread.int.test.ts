// The embedded store in a worker thread (STORE_THREAD=worker), on a real PGlite: the main thread stays free while
// the store works (a timer keeps firing through a long query, where PGlite on the main thread stops every timer),
// and everything the console does with the embedded store works as it does on the main thread: transactions,
// PostgreSQL's error fields, prepared statements, private files. A worker that stops fails every call, and a query
// option that cannot cross threads is refused, not dropped.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPrepared, runPreparedBatch } from "./prepared";
import { type EmbeddedDb, openStore, type Store } from "./store";

const dirs: string[] = [];
const stores: Store[] = [];

async function open(thread: "worker" | "main"): Promise<Store> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-store-thread-"));
  dirs.push(dataDir);
  const store = await openStore({ dataDir, thread });
  stores.push(store);
  return store;
}

let store: Store;
let db: EmbeddedDb;

beforeAll(async () => {
  store = await open("worker");
  if (!store.pglite) throw new Error("no embedded store");
  db = store.pglite;
  await db.exec("create table notes (id serial primary key, who text not null unique)");
}, 180_000);

afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `sql` on the store while a 5 ms timer counts the times it fired before the query's answer came. */
async function timerWhile(pglite: EmbeddedDb, sql: string) {
  let ticks = 0;
  let running = true;
  const timer = setInterval(() => {
    if (running) ticks++;
  }, 5);
  const before = performance.eventLoopUtilization();
  try {
    await pglite.query(sql);
  } finally {
    running = false;
    clearInterval(timer);
  }
  return { ticks, busy: performance.eventLoopUtilization(before).utilization };
}

/** The names the operating system shows for this process's threads. */
function threadNames(): string[] {
  return readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      return [readFileSync(`/proc/self/task/${tid}/comm`, "latin1").trim()];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

describe("the store's thread", () => {
  it("is named pglite-store, so its CPU is told apart from the other workers' (top, ps, bench:terminal)", () => {
    // a worker store is open (beforeAll); without the naming every worker thread is called "node"
    expect(threadNames()).toContain("pglite-store");
  });
});

describe("the main thread while the store works", () => {
  it("keeps firing a timer while the worker's store runs a long query", async () => {
    const { ticks, busy } = await timerWhile(db, "select pg_sleep(0.5)");
    expect(ticks).toBeGreaterThan(0);
    expect(busy).toBeLessThan(0.5);
  });

  it("fires no timer while PGlite on the main thread runs the same query (what the worker removes)", async () => {
    const main = await open("main");
    if (!main.pglite) throw new Error("no embedded store");
    const { ticks, busy } = await timerWhile(main.pglite, "select pg_sleep(0.5)");
    expect(ticks).toBe(0);
    expect(busy).toBeGreaterThan(0.5);
  }, 180_000);
});

describe("the worker's store, as the console uses it", () => {
  it("commits a transaction, rolls back one whose callback throws, and runs other queries after it", async () => {
    const { sql } = await import("drizzle-orm");
    await store.db.transaction(async (tx) => {
      await tx.execute(sql`insert into notes (who) values ('kept')`);
    });
    let outsideDone = false;
    await expect(
      store.db.transaction(async (tx) => {
        await tx.execute(sql`insert into notes (who) values ('dropped')`);
        // A query from outside the transaction waits for it (one session), and never sees its rows.
        const outside = db.query<{ n: number }>("select count(*)::int as n from notes where who = 'dropped'");
        void outside.then(() => {
          outsideDone = true;
        });
        await tx.execute(sql`select pg_sleep(0.1)`);
        expect(outsideDone).toBe(false);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const rows = await db.query<{ who: string }>("select who from notes order by id");
    expect(rows.rows.map((r) => r.who)).toEqual(["kept"]);
    expect(outsideDone).toBe(true);
  });

  it("rolls a transaction back when a statement in it fails, and the session goes on", async () => {
    const { sql } = await import("drizzle-orm");
    await expect(
      store.db.transaction(async (tx) => {
        await tx.execute(sql`insert into notes (who) values ('half')`);
        await tx.execute(sql`insert into notes (who) values ('kept')`); // unique: refused
      }),
    ).rejects.toThrow();
    const rows = await db.query<{ n: number }>("select count(*)::int as n from notes where who = 'half'");
    expect(rows.rows[0]?.n).toBe(0);
  });

  it("hands the caller PostgreSQL's error fields: SQLSTATE, constraint, detail", async () => {
    const err = await db.query("insert into notes (who) values ('kept')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: "23505", constraint: "notes_who_key" });
    expect(String((err as { detail?: string }).detail)).toContain("kept");
  });

  it("keeps timestamps as text for drizzle and returns jsonb, int8 and dates as PGlite does", async () => {
    const raw = await db.query<{ at: Date; j: { a: number[] }; b: number }>(
      `select '2001-02-03 04:05:06+00'::timestamptz as at, '{"a":[1,2]}'::jsonb as j, 7::int8 as b`,
    );
    expect(raw.rows[0]?.at).toBeInstanceOf(Date);
    expect(raw.rows[0]?.j).toEqual({ a: [1, 2] });
    expect(raw.rows[0]?.b).toBe(7);
    const { sql } = await import("drizzle-orm");
    const rows = await store.db.execute(sql`select '2001-02-03 04:05:06+00'::timestamptz as at`);
    expect(typeof (rows as unknown as { rows: { at: unknown }[] }).rows[0]?.at).toBe("string");
  });

  it("runs prepared statements and batches, and prepares them again after DEALLOCATE ALL", async () => {
    const insert = {
      name: "thread_test_insert",
      text: "insert into notes (who) values ($1) returning id",
      types: ["text"],
    };
    const [first] = await runPrepared<{ id: number }>(store, insert, ["it's prepared"]);
    expect(first?.id).toBeGreaterThan(0);
    await db.exec("deallocate all");
    const results = await runPreparedBatch<{ id: number }>(store, [
      { statement: insert, values: ["batch one"] },
      { statement: insert, values: ["batch 'two'"] },
    ]);
    expect(results.map((r) => r.length)).toEqual([1, 1]);
    const rows = await db.query<{ who: string }>("select who from notes where id > $1 order by id", [
      first?.id,
    ]);
    expect(rows.rows.map((r) => r.who)).toEqual(["batch one", "batch 'two'"]);
  });

  it("keeps the store's folders and files its owner's alone", async () => {
    const storeDir = path.join(dirs[0] ?? "", "store");
    const open: string[] = [];
    const entries = [storeDir];
    for (let entry = entries.pop(); entry !== undefined; entry = entries.pop()) {
      const stat = lstatSync(entry);
      if (stat.mode & 0o077) open.push(`${entry} ${(stat.mode & 0o777).toString(8)}`);
      if (stat.isDirectory()) for (const name of readdirSync(entry)) entries.push(path.join(entry, name));
    }
    expect(open).toEqual([]);
  });

  it("refuses a parameter that cannot cross to the worker, waits for nothing after it, and goes on serving", async () => {
    await expect(db.query("select $1::text as v", [() => "x"])).rejects.toThrow();
    // Nothing left waiting for an answer that will never come (it would keep the process alive for ever).
    expect((db as unknown as { pending: Map<number, unknown> }).pending.size).toBe(0);
    const rows = await db.query<{ v: string }>("select $1::text as v", ["still here"]);
    expect(rows.rows[0]?.v).toBe("still here");
  });

  it("refuses a query option that cannot cross to the worker, rather than dropping it", async () => {
    const parsers = { 1184: (value: string) => new Date(value) };
    await expect(db.query("select now()", [], { parsers })).rejects.toThrow("keep values as text");
    await expect(db.query("select 1", [], { onNotice: () => {} })).rejects.toThrow("cannot reach");
  });
});

describe("a worker that stops", () => {
  it("fails the call it was running and every later one, and close() still returns", async () => {
    const doomed = await open("worker");
    const pglite = doomed.pglite as unknown as { worker: Worker } & EmbeddedDb;
    const running = pglite.query("select pg_sleep(5)");
    await pglite.worker.terminate();
    await expect(running).rejects.toThrow("the store's worker thread stopped");
    await expect(pglite.query("select 1")).rejects.toThrow("the store's worker thread stopped");
    await doomed.close();
  }, 180_000);
});
