// Native results streamed, not held (decision 0028), on real parts: Debian's psql (`\copy ... to`, plain SELECTs,
// a transaction, SIGINT's CancelRequest, a killed client, a client that stops reading), a PostgreSQL 15 target
// and store, the real HTTP route handlers for the reference masking and the session's record. MAX_ROW_LIMIT is
// small here: native reads past it stream whole.
process.env.MAX_ROW_LIMIT = "5000";
process.env.ROW_LIMIT = "1000";
// A streamed read is one statement on the target: STATEMENT_TIMEOUT_MS bounds it whole (on a loaded machine the
// 1.2M-row export takes longer than the default minute).
process.env.STATEMENT_TIMEOUT_MS = "600000";

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { onDatabase, startLoopbackListener } from "./approvals.fixture";
import type { PgListener } from "./pg-listener";
import { heapGrowthDuring, resultEventsOf, targetBackend as targetBackendOf, until } from "./stream.fixture";

const PUBLIC_URL = "http://console.example.test";

let gateway: GatewayFixture;
let server: RouteServer;
let listener: PgListener;
let token: string;
let workDir: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startGatewayFixture({
    name: "result-stream",
    targetSql: `
      create table people (id int primary key, email text, note text);
      insert into people
        select i, 'person' || i || '@example.com', 'call +1 415 555 ' || lpad((i % 10000)::text, 4, '0')
        from generate_series(1, 20000) i;`,
  });
  const { createServiceAccount } = await import("@/server/auth");
  token = (await createServiceAccount(TEST_ACTOR, { name: "exporter", groups: ["analysts"] })).token;
  server = await startRouteServer();
  listener = await startLoopbackListener(gateway.dataDir, PUBLIC_URL);
  workDir = mkdtempSync(path.join(tmpdir(), "portcullis-stream-"));
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await server?.close();
  await gateway?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const conninfo = () => `host=127.0.0.1 port=${listener.port} dbname=shop user=exporter sslmode=require`;
const psqlEnv = () => ({ ...process.env, PGPASSWORD: token, PGAPPNAME: "stream-test" });

/** Rows `from`..`to` with an email each, as the target makes them (no table: nothing of it on disk). */
const ROWS = (from: number, to: number) =>
  `select i as id, 'user' || i || '@example.com' as email, repeat('x', 80) as pad from generate_series(${from}, ${to}) i`;
const BIG = (n: number) => ROWS(1, n);
/** An email as the target holds it (masked, it keeps its first letter and its domain: u***@example.com). */
const UNMASKED = /(user|person)\d+@/;

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** psql running `args` (after the connection string); its output collected unless `hold` (then left unread). */
function psql(args: string[], options: { hold?: boolean; input?: string } = {}): Run {
  const child = spawn("psql", [conninfo(), "-X", "-v", "VERBOSITY=verbose", ...args], { env: psqlEnv() });
  let stdout = "";
  let stderr = "";
  if (!options.hold)
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const onStore = <T>(body: (sql: postgres.Sql) => Promise<T>) => onDatabase(gateway.storeUrl, body);

const resultsOf = (marker: string) => resultEventsOf(gateway.storeUrl, marker);
const targetBackend = (marker: string) => targetBackendOf(gateway.targetUrl, marker, "portcullis");

/** The same read through the HTTP API (the editor's path): its masked rows. */
async function overHttp(input: string): Promise<unknown[][]> {
  const response = await fetch(`${server.url}/api/v1/connections/shop/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ input, rowLimit: 1000 }),
  });
  const json = (await response.json()) as { rows?: unknown[][] };
  expect(response.status, JSON.stringify(json).slice(0, 300)).toBe(200);
  return json.rows ?? [];
}

describe("COPY ... TO STDOUT streams", () => {
  it("copies 1.2M rows with emails through psql's \\copy: every row, masked as HTTP masks them, the heap bounded", async () => {
    const file = path.join(workDir, "big.csv");
    let run: Run | undefined;
    const growth = await heapGrowthDuring(async () => {
      run = psql(["-c", `\\copy (${BIG(1_200_000)} /* big-copy */) to '${file}' csv`]);
      expect(await run.exited, run.stderr()).toBe(0);
    });
    console.log(`[stream] heap retained during the 1.2M-row \\copy: +${growth.toFixed(0)} MB`);
    expect(run?.stdout()).toContain("COPY 1200000");
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(1_200_000);
    // Masked values never reach the client, the rows after the preview included.
    expect(lines.findIndex((l) => UNMASKED.test(l))).toBe(-1);
    expect(lines[1_199_999]?.startsWith("1200000,")).toBe(true);
    // Exactly what the HTTP path shows, cell for cell, at the start and at the end of the result.
    const reference = async (from: number, to: number) =>
      (await overHttp(ROWS(from, to))).map((r) => r.map((v) => String(v)).join(","));
    expect(lines.slice(0, 1000)).toEqual(await reference(1, 1000));
    expect(lines.slice(1_199_000)).toEqual(await reference(1_199_001, 1_200_000));
    // Held whole, 1.2M such rows take several hundred MB (and were refused past MAX_ROW_LIMIT).
    expect(growth).toBeLessThan(100);
    // Recorded: the preview before the rows, the count before the end.
    const events = await resultsOf("big-copy");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    expect(events[1]?.rowCount).toBe(1_200_000);
    const recorded = (events[1]?.results as { rows: unknown[][]; recordedRows: number }[] | undefined)?.[0];
    expect(recorded?.recordedRows).toBe(1000);
    expect(JSON.stringify(events)).not.toMatch(UNMASKED);
  }, 300_000);

  it("a client that stops reading holds the target, not the gateway's memory; it then gets every row", async () => {
    const run = psql(["-c", `\\copy (${BIG(600_000)} /* paused-copy */) to pstdout`], { hold: true });
    // psql blocks on its unread stdout, stops reading the gateway, which stops reading the target.
    const waiting = await until(async () => {
      const b = await targetBackend("paused-copy");
      return b?.wait_event === "ClientWrite" ? b : undefined;
    }, "the target to wait on the gateway");
    expect(waiting.state).toBe("active");
    const growth = await heapGrowthDuring(() => new Promise((r) => setTimeout(r, 1000)));
    const still = await targetBackend("paused-copy");
    expect(still?.wait_event).toBe("ClientWrite");
    expect(growth).toBeLessThan(20);
    let lines = 0;
    run.child.stdout?.on("data", (d: Buffer) => {
      for (const byte of d) if (byte === 10) lines++;
    });
    expect(await run.exited, run.stderr()).toBe(0);
    expect(lines).toBe(600_000);
  }, 120_000);
});

describe("a long SELECT streams", () => {
  it("a read of more than MAX_ROW_LIMIT rows returns every row, masked, and the session page shows it", async () => {
    const run = psql(["-A", "-t", "-c", "select id, email from people order by id /* long-select */"]);
    expect(await run.exited, run.stderr()).toBe(0);
    const lines = run.stdout().trim().split("\n");
    expect(lines).toHaveLength(20_000);
    expect(run.stdout()).not.toMatch(UNMASKED);
    const reference = (await overHttp("select id, email from people order by id limit 1000")).map((r) =>
      r.map((v) => String(v)).join("|"),
    );
    expect(lines.slice(0, 1000)).toEqual(reference);
    const events = await resultsOf("long-select");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    const sessionId = String(events[0]?.sessionId);
    const response = await fetch(`${server.url}/api/v1/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { events: { type: string; data: Record<string, unknown> }[] };
    const last = page.events.filter((e) => e.type === "result").at(-1)?.data;
    expect(last?.status).toBe("done");
    expect(last?.rowCount).toBe(20_000);
    const shown = (last?.results as { rows: unknown[][]; columns: { name: string }[] }[] | undefined)?.[0];
    expect(shown?.columns.map((c) => c.name)).toEqual(["id", "email"]);
    expect(shown?.rows).toHaveLength(1000);
    expect(JSON.stringify(page)).not.toMatch(UNMASKED);
  }, 120_000);

  it("a read of at most 1,000 rows is held and recorded once, as before (no stream)", async () => {
    const run = psql(["-A", "-t", "-c", "select id, email from people where id <= 1000 /* short-select */"]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stdout().trim().split("\n")).toHaveLength(1000);
    const events = await resultsOf("short-select");
    expect(events.map((e) => [e.status, e.streamed])).toEqual([["done", undefined]]);
  }, 60_000);

  it("works inside the client's transaction, which stays usable", async () => {
    const run = psql(["-A", "-t", "-f", "-"], {
      input: [
        "begin;",
        "select count(*) from people;",
        "select id, email from people /* in-transaction */;",
        "select 'still usable', txid_current_if_assigned() is null;",
        "commit;",
      ].join("\n"),
    });
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).not.toContain("ERROR");
    const lines = run.stdout().trim().split("\n");
    expect(lines).toContain("still usable|t");
    expect(lines.filter((l) => /^\d+\|/.test(l))).toHaveLength(20_000);
    expect((await resultsOf("in-transaction")).map((e) => e.status)).toEqual(["streaming", "done"]);
  }, 60_000);

  it("a target error mid-stream reaches the client with its SQLSTATE after the rows sent, and is recorded", async () => {
    const file = path.join(workDir, "divide.csv");
    const run = psql([
      "-c",
      `\\copy (select i, 1 / (500000 - i) from generate_series(1, 1000000) i /* divide-late */) to '${file}'`,
    ]);
    expect(await run.exited).not.toBe(0);
    expect(run.stderr()).toContain("22012");
    expect(run.stderr()).toContain("division by zero");
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.length).toBeLessThan(500_000);
    const events = await resultsOf("divide-late");
    expect(events.map((e) => e.status)).toEqual(["streaming", "failed"]);
    expect((events[1]?.error as { sqlState?: string } | undefined)?.sqlState).toBe("22012");
    expect(events[1]?.rowCount).toBe(lines.length);
  }, 120_000);
});

describe("a stream stopped by the client", () => {
  it("cancel (CancelRequest) mid-stream stops the target and records the cancel", async () => {
    const run = psql(["-c", `\\copy (${BIG(5_000_000)} /* cancelled-copy */) to pstdout`], { hold: true });
    await until(async () => {
      const b = await targetBackend("cancelled-copy");
      return b?.wait_event === "ClientWrite" ? b : undefined;
    }, "the stream to start");
    run.child.stdout?.resume();
    run.child.kill("SIGINT");
    await run.exited;
    expect(run.stderr()).toContain("57014");
    const events = await until(async () => {
      const e = await resultsOf("cancelled-copy");
      return e.length === 2 ? e : undefined;
    }, "the cancel to be recorded");
    expect(events.map((e) => e.status)).toEqual(["streaming", "cancelled"]);
    expect(await targetBackend("cancelled-copy")).toBeUndefined();
  }, 120_000);

  it("a client killed mid-stream: its target session is closed and the record says so", async () => {
    const run = psql(["-c", `\\copy (${BIG(5_000_000)} /* killed-copy */) to pstdout`], { hold: true });
    await until(async () => {
      const b = await targetBackend("killed-copy");
      return b?.wait_event === "ClientWrite" ? b : undefined;
    }, "the stream to start");
    run.child.kill("SIGKILL");
    await run.exited;
    const events = await until(async () => {
      const e = await resultsOf("killed-copy");
      return e.length === 2 ? e : undefined;
    }, "the client's going to be recorded");
    expect(events[1]?.status).toBe("cancelled");
    expect(String((events[1]?.error as { message?: string } | undefined)?.message)).toContain(
      "the client went away",
    );
    await until(async () => ((await targetBackend("killed-copy")) ? undefined : true), "the target to stop");
    const sessionId = String(events[0]?.sessionId);
    const state = await until(
      () =>
        onStore(async (sql) => {
          const [row] = await sql<{ state: string }[]>`select state from sessions where id = ${sessionId}`;
          return row?.state === "live" ? undefined : row?.state;
        }),
      "the session to end",
    );
    expect(state).toBe("ended");
  }, 120_000);
});

describe("the recorder down", () => {
  it("no row leaves when the result cannot be recorded", async () => {
    await onStore((sql) =>
      sql.unsafe(`
      create function refuse_results() returns trigger language plpgsql as $$
        begin raise exception 'the store refuses results'; end $$;
      create trigger refuse_results before insert on session_events
        for each row when (new.type = 'result') execute function refuse_results();`),
    );
    try {
      const file = path.join(workDir, "unrecorded.csv");
      const run = psql(["-c", `\\copy (select id, email from people /* unrecorded */) to '${file}'`]);
      expect(await run.exited).not.toBe(0);
      expect(run.stderr()).toContain("the recorder cannot store the result");
      expect(readFileSync(file, "utf8")).toBe("");
    } finally {
      await onStore((sql) =>
        sql.unsafe("drop trigger refuse_results on session_events; drop function refuse_results()"),
      );
    }
  }, 60_000);
});
