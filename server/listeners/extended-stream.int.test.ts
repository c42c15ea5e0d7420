// The extended protocol's results streamed (decision 0028, session 11), on real parts: pgjdbc (DriverProbe.java:
// setFetchSize in a transaction is a portal read in pieces, Execute with maxRows; with autocommit one Execute to
// the end), node-postgres with parameters, a PostgreSQL 15 target and store, the real HTTP route handlers for the
// reference masking. MAX_ROW_LIMIT is small here (100,000): an extended read past it is not cut.
process.env.MAX_ROW_LIMIT = "100000";
process.env.ROW_LIMIT = "1000";
// A streamed read is one statement on the target: STATEMENT_TIMEOUT_MS bounds it whole.
process.env.STATEMENT_TIMEOUT_MS = "600000";

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import type postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { onDatabase, startLoopbackListener } from "./approvals.fixture";
import type { PgListener } from "./pg-listener";
import { heapGrowthDuring, resultEventsOf, targetBackend as targetBackendOf, until } from "./stream.fixture";

const PUBLIC_URL = "http://console.example.test";
const JDBC_JAR = "/usr/share/java/postgresql.jar";
const PROBE = path.join(process.cwd(), "test", "drivers", "DriverProbe.java");

let gateway: GatewayFixture;
let server: RouteServer;
let listener: PgListener;
let token: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startGatewayFixture({ name: "extended-stream" });
  const { createServiceAccount } = await import("@/server/auth");
  token = (await createServiceAccount(TEST_ACTOR, { name: "bi-tool", groups: ["analysts"] })).token;
  server = await startRouteServer();
  listener = await startLoopbackListener(gateway.dataDir, PUBLIC_URL);
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await server?.close();
  await gateway?.stop();
});

/** Rows `from`..`to` with an email each, as the target makes them. */
const ROWS = (from: number, to: number) =>
  `select i as id, 'user' || i || '@example.com' as email, repeat('x', 80) as pad from generate_series(${from}, ${to}) i`;
/** An email as the target holds it (masked, it keeps its first letter and its domain: u***@example.com). */
const UNMASKED = /user\d+@/;

/** A DriverProbe whose replies are read as they come, and fed commands one by one. */
interface Probe {
  child: ChildProcess;
  /** the next reply line ("ok\t..." or "error\t<SQLSTATE>\t...") */
  next(): Promise<string>;
  send(command: string[]): void;
  exited: Promise<number | null>;
}

function probe(): Probe {
  const url = `jdbc:postgresql://127.0.0.1:${listener.port}/shop?sslmode=require`;
  const child = spawn("java", ["-Xmx256m", "-cp", JDBC_JAR, PROBE, url, "bi-tool", token]);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = "";
  child.stdout.on("data", (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    next: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(() => setTimeout(() => reject(new Error(`the probe exited: ${stderr}`)), 100));
      });
    },
    send: (command) => child.stdin.write(`${command.join("\t")}\n`),
    exited,
  };
}

/** Runs commands through a fresh probe; its replies after the connection's. */
async function jdbc(commands: string[][]): Promise<string[]> {
  const p = probe();
  expect(await p.next()).toBe("ok\tconnected");
  const replies: string[] = [];
  for (const c of commands) {
    p.send(c);
    replies.push(await p.next());
  }
  p.child.stdin?.end();
  await p.exited;
  return replies;
}

function pgClient(): pg.Client {
  return new pg.Client({
    host: "127.0.0.1",
    port: listener.port,
    database: "shop",
    user: "bi-tool",
    password: token,
    ssl: { rejectUnauthorized: false },
  });
}

const onStore = <T>(body: (sql: postgres.Sql) => Promise<T>) => onDatabase(gateway.storeUrl, body);

const resultsOf = (marker: string) => resultEventsOf(gateway.storeUrl, marker);
const targetBackend = (marker: string) => targetBackendOf(gateway.targetUrl, marker);

/** The same read through the HTTP API (the editor's path): its masked rows. */
async function overHttp(input: string, rowLimit = 100_000): Promise<unknown[][]> {
  const response = await fetch(`${server.url}/api/v1/connections/shop/exec`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ input, rowLimit }),
  });
  const json = (await response.json()) as { rows?: unknown[][] };
  expect(response.status, JSON.stringify(json).slice(0, 300)).toBe(200);
  return json.rows ?? [];
}

/** The rows 1..n as the HTTP path masks them, digested as the probe digests (cells "|", rows "\n"). */
async function httpDigest(n: number): Promise<string> {
  const sha = createHash("sha256");
  for (let from = 1; from <= n; from += 100_000) {
    const rows = await overHttp(ROWS(from, Math.min(n, from + 99_999)));
    expect(JSON.stringify(rows)).not.toMatch(UNMASKED);
    for (const [i, row] of rows.entries())
      sha.update(
        `${from === 1 && i === 0 ? "" : "\n"}${row.map((v) => (v === null ? "null" : String(v))).join("|")}`,
      );
  }
  return sha.digest("hex");
}

// Five times MAX_ROW_LIMIT here: past it by far, and a result held whole would pass the heap bound below.
const PAST_LIMIT = 500_000;
let reference: string | undefined;
const referenceDigest = async () => {
  reference ??= await httpDigest(PAST_LIMIT);
  return reference;
};

describe("pgjdbc past MAX_ROW_LIMIT", () => {
  it("reads 500k rows with setFetchSize(5000) in a transaction (a portal in pieces): every row, masked as HTTP masks them, the heap bounded", async () => {
    let replies: string[] = [];
    const growth = await heapGrowthDuring(async () => {
      replies = await jdbc([
        ["autocommit", "off"],
        ["digest", "5000", `${ROWS(1, PAST_LIMIT)} /* jdbc-pieces */`],
        ["commit"],
      ]);
    });
    console.log(`[extended-stream] heap retained during the 500k-row portal read: +${growth.toFixed(0)} MB`);
    expect(replies[1]).toBe(`ok\trows=${PAST_LIMIT} sha256=${await referenceDigest()}`);
    expect(replies[2]).toBe("ok\tcommitted");
    expect(growth).toBeLessThan(100);
    const events = await resultsOf("jdbc-pieces");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    expect(events[1]?.rowCount).toBe(PAST_LIMIT);
    expect(JSON.stringify(events)).not.toMatch(UNMASKED);
  }, 600_000);

  it("reads 500k rows with autocommit (one Execute to the end): every row, masked as HTTP masks them", async () => {
    const replies = await jdbc([["digest", "5000", `${ROWS(1, PAST_LIMIT)} /* jdbc-autocommit */`]]);
    expect(replies[0]).toBe(`ok\trows=${PAST_LIMIT} sha256=${await referenceDigest()}`);
    const events = await resultsOf("jdbc-autocommit");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    expect(events[1]?.rowCount).toBe(PAST_LIMIT);
  }, 600_000);
});

describe("node-postgres with parameters", () => {
  it("returns every row of a read with parameters past MAX_ROW_LIMIT, masked as over HTTP", async () => {
    const client = pgClient();
    await client.connect();
    try {
      const got = await client.query({
        text: `select i as id, 'user' || i || '@example.com' as email from generate_series(1, $1::int) i /* pg-params */`,
        values: [150_000],
        rowMode: "array",
      });
      expect(got.rows).toHaveLength(150_000);
      expect(JSON.stringify(got.rows)).not.toMatch(UNMASKED);
      const http = await overHttp(
        "select i as id, 'user' || i || '@example.com' as email from generate_series(149001, 150000) i",
      );
      expect(got.rows.slice(149_000).map((r: unknown[]) => r.map(String))).toEqual(
        http.map((r) => r.map(String)),
      );
    } finally {
      await client.end();
    }
    expect((await resultsOf("pg-params")).map((e) => e.status)).toEqual(["streaming", "done"]);
  }, 120_000);

  it("a target error mid-stream reaches the client with its SQLSTATE after the rows sent, and is recorded", async () => {
    const client = pgClient();
    await client.connect();
    let rows = 0;
    try {
      const error = await new Promise<{ code?: string }>((resolve) => {
        const query = client.query(
          new pg.Query({
            text: "select i, 1 / ($1::int - i) from generate_series(1, 1000000) i /* pg-divide */",
            values: [300_000],
          }),
        );
        query.on("row", () => {
          rows++;
        });
        query.on("error", (err: Error) => resolve(err as { code?: string }));
        query.on("end", () => resolve({}));
      });
      expect(error.code).toBe("22012");
      expect(rows).toBeGreaterThan(1000);
      expect(rows).toBeLessThan(300_000);
      // The connection goes on.
      expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    const events = await resultsOf("pg-divide");
    expect(events.map((e) => e.status)).toEqual(["streaming", "failed"]);
    expect((events[1]?.error as { sqlState?: string } | undefined)?.sqlState).toBe("22012");
    expect(events[1]?.rowCount).toBe(rows);
  }, 120_000);

  it("a CancelRequest mid-stream stops the target and is recorded", async () => {
    const client = pgClient();
    await client.connect();
    client.on("error", () => {});
    try {
      const socket = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
      const done = client
        .query({
          text: `select i, 'user' || i || '@example.com' from generate_series(1, $1::int) i /* pg-cancelled */`,
          values: [5_000_000],
        })
        .then(
          () => ({ code: "none" }),
          (err: { code?: string }) => err,
        );
      await until(async () => {
        socket.pause();
        const b = await targetBackend("pg-cancelled");
        return b?.wait_event === "ClientWrite" ? b : undefined;
      }, "the stream to fill the sockets");
      const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
      await new Promise<void>((resolve, reject) => {
        const cancel = net.connect(listener.port, "127.0.0.1", () => {
          const packet = Buffer.alloc(16);
          packet.writeInt32BE(16, 0);
          packet.writeInt32BE(80877102, 4);
          packet.writeInt32BE(processID, 8);
          packet.writeInt32BE(secretKey, 12);
          cancel.end(packet);
        });
        cancel.on("close", () => resolve());
        cancel.on("error", reject);
      });
      socket.resume();
      expect((await done).code).toBe("57014");
    } finally {
      await client.end().catch(() => {});
    }
    const events = await until(async () => {
      const e = await resultsOf("pg-cancelled");
      return e.length === 2 ? e : undefined;
    }, "the cancel to be recorded");
    expect(events.map((e) => e.status)).toEqual(["streaming", "cancelled"]);
    expect(await targetBackend("pg-cancelled")).toBeUndefined();
  }, 120_000);
});

describe("a portal read in pieces", () => {
  it("closed early (ResultSet.close: ClosePortal): the target's read stops, the completion is recorded, the transaction goes on", async () => {
    const replies = await jdbc([
      ["autocommit", "off"],
      ["first", "5000", "12000", `${ROWS(1, 2_000_000)} /* closed-early */`],
      ["query", "select 'after the portal'"],
      ["commit"],
    ]);
    expect(replies).toEqual([
      "ok\tautocommit=false",
      "ok\trows=12000",
      "ok\trows=1 after the portal",
      "ok\tcommitted",
    ]);
    expect(await targetBackend("closed-early")).toBeUndefined();
    const events = await resultsOf("closed-early");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    expect(String(events[1]?.note)).toContain("closed the portal");
    // The rows sent: three pieces of 5,000 (pgjdbc read 12,000 of them before it closed the portal).
    expect(events[1]?.rowCount).toBe(15_000);
  }, 120_000);

  it("a client that stops reading between pieces holds the target, not the gateway's memory; then gets every row", async () => {
    const p = probe();
    expect(await p.next()).toBe("ok\tconnected");
    p.send(["autocommit", "off"]);
    expect(await p.next()).toBe("ok\tautocommit=false");
    p.send(["pause", "5000", "5000", `${ROWS(1, 600_000)} /* paused-portal */`]);
    expect(await p.next()).toBe("ok\tpaused rows=5000");
    const waiting = await until(async () => {
      const b = await targetBackend("paused-portal");
      return b?.wait_event === "ClientWrite" ? b : undefined;
    }, "the target to wait on the gateway");
    expect(waiting.state).toBe("active");
    const growth = await heapGrowthDuring(() => new Promise((r) => setTimeout(r, 1000)));
    expect((await targetBackend("paused-portal"))?.wait_event).toBe("ClientWrite");
    expect(growth).toBeLessThan(20);
    p.send(["go"]);
    expect(await p.next()).toBe("ok\trows=600000");
    p.child.stdin?.end();
    await p.exited;
  }, 120_000);

  it("another statement between its pieces runs, and the portal's rest still arrives (held meanwhile)", async () => {
    const p = probe();
    expect(await p.next()).toBe("ok\tconnected");
    p.send(["autocommit", "off"]);
    expect(await p.next()).toBe("ok\tautocommit=false");
    p.send(["pause", "5000", "5000", `${ROWS(1, 30_000)} /* interleaved */`]);
    expect(await p.next()).toBe("ok\tpaused rows=5000");
    p.send(["query", "select 'in between'"]);
    expect(await p.next()).toBe("ok\trows=1 in between");
    expect(await p.next()).toBe("ok\trows=30000");
    p.send(["commit"]);
    expect(await p.next()).toBe("ok\tcommitted");
    p.child.stdin?.end();
    await p.exited;
    expect((await resultsOf("interleaved")).map((e) => e.status)).toEqual(["streaming", "done"]);
  }, 120_000);

  it("a rest longer than MAX_ROW_LIMIT held for a statement between pieces ends the portal with 54000, never a silent cut", async () => {
    const p = probe();
    expect(await p.next()).toBe("ok\tconnected");
    p.send(["autocommit", "off"]);
    expect(await p.next()).toBe("ok\tautocommit=false");
    p.send(["pause", "5000", "5000", `${ROWS(1, 300_000)} /* held-cut */`]);
    expect(await p.next()).toBe("ok\tpaused rows=5000");
    p.send(["query", "select 'in between'"]);
    expect(await p.next()).toBe("ok\trows=1 in between");
    const end = await p.next();
    expect(end).toMatch(/^error\t54000\t/);
    expect(end).toContain("MAX_ROW_LIMIT");
    p.child.stdin?.end();
    await p.exited;
    const events = await resultsOf("held-cut");
    expect(events.map((e) => e.status)).toEqual(["streaming", "done"]);
    expect(String(events[1]?.note)).toContain("cut at MAX_ROW_LIMIT");
    // 5,000 rows sent in the first piece, then the 100,000 held (MAX_ROW_LIMIT here), sent before the error.
    expect(events[1]?.rowCount).toBe(105_000);
    expect(await targetBackend("held-cut")).toBeUndefined();
  }, 120_000);

  it("the client killed mid-portal: its target session is closed (rolled back) and the record says so", async () => {
    const p = probe();
    expect(await p.next()).toBe("ok\tconnected");
    p.send(["autocommit", "off"]);
    expect(await p.next()).toBe("ok\tautocommit=false");
    p.send(["pause", "5000", "5000", `${ROWS(1, 5_000_000)} /* killed-portal */`]);
    expect(await p.next()).toBe("ok\tpaused rows=5000");
    p.child.kill("SIGKILL");
    await p.exited;
    const events = await until(async () => {
      const e = await resultsOf("killed-portal");
      return e.length === 2 ? e : undefined;
    }, "the client's going to be recorded");
    expect(events[1]?.status).toBe("cancelled");
    expect(String((events[1]?.error as { message?: string } | undefined)?.message)).toContain(
      "the client went away",
    );
    await until(
      async () => ((await targetBackend("killed-portal")) ? undefined : true),
      "the target to stop",
    );
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

describe("types of a streamed read", () => {
  it("pgjdbc reads numbers, dates and timestamps of a streamed read (announced as text) with their getters", async () => {
    const sql = (n: number, marker: string) =>
      `select i, i * 1.5, date '2026-01-01' + (i % 365), timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', 'user' || i || '@example.com' from generate_series(1, ${n}) i /* ${marker} */`;
    const replies = await jdbc([
      ["typedread", "0", sql(20_000, "typed-streamed")],
      ["autocommit", "off"],
      ["typedread", "5000", sql(20_000, "typed-pieces")],
      ["commit"],
      ["autocommit", "on"],
      ["typedread", "0", sql(10, "typed-held")],
    ]);
    console.log(`[extended-stream] pgjdbc on a streamed read: ${replies.join(" / ")}`);
    const last = "last=20000,30000.0,2026-10-18,2026-01-01T05:33:20Z,u***@example.com";
    expect(replies[0]).toBe(`ok\trows=20000 types=text,text,text,text,text ${last}`);
    expect(replies[2]).toBe(`ok\trows=20000 types=text,text,text,text,text ${last}`);
    expect(replies[5]).toMatch(/^ok\trows=10 types=int4,numeric,date,timestamptz,text last=10,15.0,/);
  }, 120_000);
});

describe("the recorder down", () => {
  it("no row leaves when the result cannot be recorded", async () => {
    // pgjdbc connected before: its own start-up queries are recorded too.
    const jdbcProbe = probe();
    expect(await jdbcProbe.next()).toBe("ok\tconnected");
    await onStore((sql) =>
      sql.unsafe(`
      create function refuse_results() returns trigger language plpgsql as $$
        begin raise exception 'the store refuses results'; end $$;
      create trigger refuse_results before insert on session_events
        for each row when (new.type = 'result') execute function refuse_results();`),
    );
    const client = pgClient();
    await client.connect();
    try {
      let rows = 0;
      const error = await new Promise<{ message?: string }>((resolve) => {
        const query = client.query(
          new pg.Query({ text: `${ROWS(1, 50_000)} where i > $1::int /* unrecorded */`, values: [0] }),
        );
        query.on("row", () => {
          rows++;
        });
        query.on("error", (err: Error) => resolve(err));
        query.on("end", () => resolve({}));
      });
      expect(error.message).toContain("the recorder cannot store the result");
      expect(rows).toBe(0);
      jdbcProbe.send(["digest", "0", `${ROWS(1, 50_000)} /* unrecorded-jdbc */`]);
      const reply = await jdbcProbe.next();
      expect(reply).toMatch(/^error\t/);
      expect(reply).toContain("the recorder cannot store the result");
      jdbcProbe.child.stdin?.end();
      await jdbcProbe.exited;
    } finally {
      await client.end();
      await onStore((sql) =>
        sql.unsafe("drop trigger refuse_results on session_events; drop function refuse_results()"),
      );
    }
  }, 120_000);
});
