// COPY ... FROM STDIN through the listener, on real parts: Debian's psql (`\copy ... from 'file'`, inline COPY
// FROM STDIN in a script, CSV with a header, kept open across an approval), postgres.js's copy stream (CopyFail),
// a PostgreSQL 15 target and store, the real route handler for approvals. Loaded where the rules allow it,
// decided before the data flows; held by default, an approval bound to the exact data; nothing of the data in
// the recording.
import { spawn } from "node:child_process";
import { closeSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TEST_ACTOR } from "@/test/harness/gateway";
import {
  type ApprovalsConsole,
  interactivePsql as openPsql,
  startApprovalsConsole,
} from "./approvals.fixture";
import type { PgListener } from "./pg-listener";

const PUBLIC_URL = "http://console.example.test";
const CARD = "4111 1111 1111 1111";

let gateway: ApprovalsConsole;
let listener: PgListener;
let token: string;

beforeAll(async () => {
  process.env.PUBLIC_URL = PUBLIC_URL;
  gateway = await startApprovalsConsole({
    name: "copy-in",
    targetSql: `
      create table notes (id int primary key, body text);
      create table secrets (id int, body text);`,
    accounts: ["loader"],
    publicUrl: PUBLIC_URL,
  });
  listener = gateway.listener;
  token = gateway.tokens.loader ?? "";
});

afterAll(async () => {
  await gateway?.stop();
});

afterEach(async () => {
  await onTarget((sql) => sql`delete from notes`);
});

const onTarget: ApprovalsConsole["onTarget"] = (body) => gateway.onTarget(body);
const onStore: ApprovalsConsole["onStore"] = (body) => gateway.onStore(body);

const notes = async () =>
  (await onTarget((sql) => sql`select id, body from notes order by id`)).map((r) => `${r.id}:${r.body}`);

/** Everything the store holds of sessions, their events and reviews, as text. */
const storeText = () =>
  onStore(async (sql) => {
    const [row] = await sql`select
      (select coalesce(string_agg(row_to_json(e)::text, E'\\n'), '') from session_events e) ||
      (select coalesce(string_agg(row_to_json(r)::text, E'\\n'), '') from reviews r) as all`;
    return String(row?.all ?? "");
  });

/** No form of the card number: as written, without its spaces, or its first eight digits (ids and hashes are hex). */
function expectNoCard(text: string) {
  expect(text).not.toContain(CARD);
  expect(text).not.toContain(CARD.replaceAll(" ", ""));
  expect(text).not.toContain(CARD.slice(0, 9));
}

/** Runs `body` while a rule lets the analysts write on shop. */
async function withWrites(body: () => Promise<void>) {
  const { createRule, deleteRule } = await import("@/server/policy");
  const id = await createRule(TEST_ACTOR, {
    name: "analysts write",
    connection: "shop",
    groups: ["analysts"],
    classes: ["write"],
    action: "allow",
  });
  try {
    await body();
  } finally {
    await deleteRule(TEST_ACTOR, id);
  }
}

const conninfo = () => `host=127.0.0.1 port=${listener.port} dbname=shop user=loader sslmode=require`;
const psqlEnv = () => ({ ...process.env, PGPASSWORD: token, PGAPPNAME: "copy-in-test" });

/** psql reading `script` from its standard input (inline COPY data included): stdout, stderr. */
function psqlScript(script: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [conninfo(), "-X", "-v", "VERBOSITY=verbose", "-f", "-"], {
      env: psqlEnv(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("exit", () => resolve({ stdout, stderr }));
    child.stdin.end(script);
  });
}

/** psql kept open across steps (one connection). */
const interactivePsql = () => openPsql(conninfo(), psqlEnv());

const decide = (reviewId: string, decision: "approve" | "deny" = "approve") =>
  gateway.decide(reviewId, decision);

const reviewIdIn = (text: string) => /held for review ([0-9a-f-]{36})/.exec(text)?.[1];

function dataFile(name: string, text: string): string {
  const file = path.join(gateway.dataDir, name);
  writeFileSync(file, text);
  return file;
}

describe("COPY FROM STDIN where the rules allow writes", () => {
  it("loads psql's \\copy from a file and prints the target's COPY n", async () => {
    await withWrites(async () => {
      const file = dataFile("rows.tsv", `1\tfirst\n2\tsecond, with a tab\\there\n3\t\\N\n`);
      const out = await psqlScript(`\\copy notes from '${file}'\n`);
      expect(out.stderr).toBe("");
      expect(out.stdout).toContain("COPY 3");
      expect(await notes()).toEqual(["1:first", "2:second, with a tab\there", "3:null"]);
    });
  });

  it("loads inline COPY FROM STDIN data and CSV with a header, and the session goes on", async () => {
    await withWrites(async () => {
      const out = await psqlScript(
        [
          "copy notes from stdin;",
          "10\tinline",
          "\\.",
          "copy notes (body, id) from stdin with (format csv, header true);",
          "body,id",
          '"quoted, comma",11',
          '"two',
          'lines",12',
          "\\.",
          "select count(*) as loaded from notes;",
        ].join("\n"),
      );
      expect(out.stderr).toBe("");
      expect(out.stdout).toContain("COPY 1");
      expect(out.stdout).toContain("COPY 2");
      expect(out.stdout).toMatch(/loaded\s*\n-+\n\s+3/);
      expect(await notes()).toEqual(["10:inline", "11:quoted, comma", "12:two\nlines"]);
    });
  });

  it("passes the options PostgreSQL accepts to the target: a column list with WHERE, FORMAT binary", async () => {
    await withWrites(async () => {
      // binary data as PostgreSQL itself writes it, straight from the target
      const binary = path.join(gateway.dataDir, "rows.bin");
      const { execFileSync } = await import("node:child_process");
      execFileSync("psql", [
        gateway.targetUrl,
        "-X",
        "-c",
        `\\copy (select 13::int as id, 'from binary'::text as body) to '${binary}' with (format binary)`,
      ]);
      const out = await psqlScript(
        [
          "copy notes (body, id) from stdin with (format csv) where id > 14;",
          "kept,15",
          "skipped,14",
          "\\.",
          `\\copy notes from '${binary}' with (format binary)`,
        ].join("\n"),
      );
      expect(out.stderr).toBe("");
      expect(out.stdout).toContain("COPY 1\nCOPY 1");
      expect(await notes()).toEqual(["13:from binary", "15:kept"]);
    });
  });

  it("a bad row fails with the target's error and SQLSTATE, loads nothing, and its value stays masked", async () => {
    await withWrites(async () => {
      const data = `20\tgood row\n${CARD}\tbad id\n`;
      const file = dataFile("bad.tsv", data);
      const out = await psqlScript(`\\copy notes from '${file}'\nselect 1 as after;\n`);
      expect(out.stderr).toMatch(/ERROR:\s+22P02:\s+invalid input syntax for type integer/);
      expect(out.stderr).not.toContain(CARD);
      expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
      expect(await notes()).toEqual([]);
      const [result] = await onStore(
        (sql) =>
          sql`select data from session_events where type = 'result' and data->'error'->>'sqlState' = '22P02'`,
      );
      expect(result?.data).toMatchObject({
        status: "failed",
        copyFromStdin: { bytes: Buffer.byteLength(data) },
      });
    });
  });

  it("a constraint the data breaks fails with 23505 and loads nothing", async () => {
    await withWrites(async () => {
      const file = dataFile("dupe.tsv", "30\tonce\n30\ttwice\n");
      const out = await psqlScript(`\\copy notes from '${file}'\n`);
      expect(out.stderr).toMatch(/ERROR:\s+23505:\s+duplicate key value/);
      expect(await notes()).toEqual([]);
    });
  });

  it("a COPY inside the client's transaction is rolled back with it", async () => {
    await withWrites(async () => {
      const file = dataFile("tx.tsv", "40\tin a transaction\n");
      const out = await psqlScript(
        `begin;\n\\copy notes from '${file}'\nselect count(*) as mine from notes;\nrollback;\n`,
      );
      expect(out.stderr).toBe("");
      expect(out.stdout).toContain("COPY 1");
      expect(out.stdout).toMatch(/mine\s*\n-+\n\s+1/); // seen inside the client's transaction
      expect(await notes()).toEqual([]);
    });
  });

  it("a failed COPY inside a transaction leaves it failed (25P02), as PostgreSQL does", async () => {
    await withWrites(async () => {
      const file = dataFile("tx-bad.tsv", "oops\tbad\n");
      const out = await psqlScript(
        `begin;\n\\copy notes from '${file}'\nselect 1;\n\\copy notes from '${file}'\nrollback;\n`,
      );
      expect(out.stderr).toMatch(/ERROR:\s+22P02/);
      // the next statement, and the next COPY (refused by the target before any data), fail as in PostgreSQL
      expect(out.stderr.match(/ERROR:\s+25P02/g)).toHaveLength(2);
      expect(await notes()).toEqual([]);
    });
  });

  it("a CopyFail from the client (postgres.js's stream destroyed) loads nothing", async () => {
    await withWrites(async () => {
      const client = postgres({
        host: "127.0.0.1",
        port: listener.port,
        database: "shop",
        username: "loader",
        password: token,
        ssl: { rejectUnauthorized: false },
        max: 1,
        onnotice: () => {},
      });
      try {
        const stream = await client.unsafe("copy notes from stdin").writable();
        stream.write("50\tsent before the failure\n");
        const closed = new Promise((resolve) => stream.on("close", resolve));
        stream.on("error", () => {});
        stream.destroy(new Error("the client changed its mind"));
        await closed;
        const [after] = await client.unsafe("select count(*)::int as n from notes");
        expect(after?.n).toBe(0);
      } finally {
        await client.end();
      }
      expect(await notes()).toEqual([]);
      const [result] = await onStore(
        (sql) =>
          sql`select data from session_events where type = 'result' and data->'error'->>'sqlState' = '57014'`,
      );
      expect(String(result?.data.error.message)).toContain("the client changed its mind");
    });
  });

  it("a CancelRequest during the COPY cancels it on the target: 57014 at CopyDone, nothing loaded", async () => {
    await withWrites(async () => {
      const client = postgres({
        host: "127.0.0.1",
        port: listener.port,
        database: "shop",
        username: "loader",
        password: token,
        ssl: { rejectUnauthorized: false },
        max: 1,
        onnotice: () => {},
      });
      try {
        const query = client.unsafe("copy notes from stdin");
        const stream = await query.writable();
        stream.on("error", () => {});
        await new Promise<void>((resolve) => stream.write("97\tbefore the cancel\n", () => resolve()));
        // The key the listener gave this client (BackendKeyData), sent as PostgreSQL's CancelRequest.
        const key = (query as unknown as { state: { pid: number; secret: number } }).state;
        const cancel = Buffer.alloc(16);
        cancel.writeInt32BE(16, 0);
        cancel.writeInt32BE(80877102, 4);
        cancel.writeInt32BE(key.pid, 8);
        cancel.writeInt32BE(key.secret, 12);
        await new Promise<void>((resolve, reject) => {
          const socket = net.connect(listener.port, "127.0.0.1", () => socket.end(cancel));
          socket.on("close", () => resolve());
          socket.on("error", reject);
        });
        // The cancel reaches the target whatever the client does next; its CopyDone is then answered 57014.
        let cancelled = false;
        for (let tries = 0; tries < 200 && !cancelled; tries++) {
          const [row] = await onStore(
            (sql) =>
              sql`select count(*)::int as n from session_events where type = 'result' and data->'error'->>'sqlState' = '57014' and data->'error'->>'message' like '%canceling statement due to user request%'`,
          );
          cancelled = (row?.n ?? 0) > 0;
          if (!cancelled) await new Promise((r) => setTimeout(r, 50));
        }
        expect(cancelled).toBe(true);
        stream.write("98\tafter the cancel\n");
        stream.end();
        const [after] = await client`select 1 as still`;
        expect(String(after?.still)).toBe("1"); // the connection goes on
      } finally {
        await client.end({ timeout: 0 });
      }
      expect(await notes()).toEqual([]);
    });
  });

  it("a client that goes away in the middle of a COPY loads nothing, and the recording says it did not finish", async () => {
    await withWrites(async () => {
      const client = postgres({
        host: "127.0.0.1",
        port: listener.port,
        database: "shop",
        username: "loader",
        password: token,
        ssl: { rejectUnauthorized: false },
        max: 1,
        onnotice: () => {},
      });
      const stream = await client.unsafe("copy notes (id, body) from stdin").writable();
      stream.on("error", () => {});
      await new Promise<void>((resolve) => stream.write("95\tgone before CopyDone\n", () => resolve()));
      await client.end({ timeout: 0 });
      let result: postgres.Row | undefined;
      for (let tries = 0; tries < 200 && !result; tries++) {
        [result] = await onStore(
          (sql) => sql`select e.data from session_events e join session_events s
            on s.id = (e.data->>'statementEventId')::bigint
            where e.type = 'result' and s.data->>'input' = 'copy notes (id, body) from stdin'`,
        );
        if (!result) await new Promise((r) => setTimeout(r, 50));
      }
      // Whichever the target saw first, CopyFail (57014, cancelled) or the connection closing (failed): not done.
      expect(["cancelled", "failed"]).toContain(result?.data.status);
      expect(await notes()).toEqual([]);
    });
  });

  it("a credential revoked while its COPY is under way loads nothing: the client is ended at CopyDone", async () => {
    const { createServiceAccount, revokeToken } = await import("@/server/auth");
    const account = await createServiceAccount(TEST_ACTOR, { name: "revoked-loader", groups: ["analysts"] });
    await withWrites(async () => {
      let closedByGateway: () => void = () => {};
      const closed = new Promise<"closed">((resolve) => {
        closedByGateway = () => resolve("closed");
      });
      const client = postgres({
        host: "127.0.0.1",
        port: listener.port,
        database: "shop",
        username: "revoked-loader",
        password: account.token,
        ssl: { rejectUnauthorized: false },
        max: 1,
        onnotice: () => {},
        onclose: () => closedByGateway(),
      });
      try {
        const stream = await client.unsafe("copy notes from stdin").writable();
        const finished = new Promise<"loaded" | "failed">((resolve) => {
          stream.on("error", () => resolve("failed"));
          stream.on("finish", () => resolve("loaded"));
        });
        await new Promise<void>((resolve) => stream.write("96\tafter revocation\n", () => resolve()));
        await revokeToken(TEST_ACTOR, account.tokenId);
        stream.end();
        expect(await Promise.race([finished, closed])).toBe("closed");
      } finally {
        await client.end({ timeout: 0 });
      }
    });
    expect(await notes()).toEqual([]);
  });

  it("records the COPY and its row count, with none of the data", async () => {
    await withWrites(async () => {
      const file = dataFile("cards.tsv", `60\t${CARD}\n61\tcard ${CARD} in text\n`);
      const out = await psqlScript(`\\copy notes from '${file}'\n`);
      expect(out.stdout).toContain("COPY 2");
      const [statement] = await onStore(
        (sql) =>
          sql`select id, data from session_events where type = 'statement' and data->>'input' ilike 'copy%notes%from%stdin%' order by id desc limit 1`,
      );
      expect(statement?.data).toMatchObject({ decision: "allow", class: "write" });
      const [result] = await onStore(
        (sql) =>
          sql`select data from session_events where type = 'result' and (data->>'statementEventId')::bigint = ${statement?.id}`,
      );
      expect(result?.data).toMatchObject({
        status: "done",
        rowCount: 2,
        copyFromStdin: { bytes: Buffer.byteLength(`60\t${CARD}\n61\tcard ${CARD} in text\n`) },
      });
      expectNoCard(await storeText());
      expect(await notes()).toEqual([`60:${CARD}`, `61:card ${CARD} in text`]);
    });
  });
});

describe("COPY FROM STDIN refused before the data flows", () => {
  it("refuses a COPY into a table the principal may not write (42501), nothing loaded", async () => {
    const { createRule, deleteRule } = await import("@/server/policy");
    const deny = await createRule(TEST_ACTOR, {
      name: "no loading secrets",
      connection: "shop",
      groups: ["analysts"],
      classes: ["write"],
      tables: ["secrets"],
      action: "deny",
      message: "secrets are loaded by the vault job only",
    });
    try {
      await withWrites(async () => {
        const file = dataFile("secrets.tsv", "1\tkeep out\n");
        const out = await psqlScript(`\\copy secrets from '${file}'\n\\copy notes from '${file}'\n`);
        expect(out.stderr).toMatch(/ERROR:\s+42501:\s+secrets are loaded by the vault job only/);
        expect(out.stdout).toContain("COPY 1"); // the table it may write
      });
    } finally {
      await deleteRule(TEST_ACTOR, deny);
    }
    const [secrets] = await onTarget((sql) => sql`select count(*)::int as n from secrets`);
    expect(secrets?.n).toBe(0);
    expect(await notes()).toEqual(["1:keep out"]);
  });

  it("passes the target's own refusal of the statement (no such table) before any data", async () => {
    await withWrites(async () => {
      const file = dataFile("nowhere.tsv", "1\tx\n");
      const out = await psqlScript(`\\copy no_such_table from '${file}'\nselect 1 as after;\n`);
      expect(out.stderr).toMatch(/ERROR:\s+42P01:\s+relation "no_such_table" does not exist/);
      expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
    });
  });
});

describe("COPY FROM STDIN held for review (the default for writes)", () => {
  it("holds it, loads nothing, and keeps none of the data", async () => {
    const data = `70\t${CARD}\n71\theld row\n`;
    const file = dataFile("held.tsv", data);
    const out = await psqlScript(`\\copy notes from '${file}'\nselect 1 as after;\n`);
    const reviewId = reviewIdIn(out.stderr);
    expect(reviewId).toBeDefined();
    expect(out.stderr).toContain("send the same COPY with exactly the same data again on this connection");
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
    expect(await notes()).toEqual([]);
    const [review] = await onStore(
      (sql) => sql`select reasons, parameters, parameters_hash from reviews where id = ${reviewId ?? ""}`,
    );
    expect(JSON.stringify(review?.reasons)).toContain(
      `a COPY FROM STDIN of ${Buffer.byteLength(data)} bytes (2 lines)`,
    );
    expect(review?.parameters_hash).toMatch(/^[0-9a-f]{64}$/);
    const stored = await storeText();
    expectNoCard(stored);
    expect(stored).not.toContain("held row");
  });

  it("loads the approved data once when sent again on that connection; different data or a second send is held", async () => {
    const client = interactivePsql();
    const copy = (rows: string) => `copy notes from stdin;\n${rows}\\.`;
    try {
      const held = await client.send(copy("80\tapproved\n81\trows\n"));
      const reviewId = reviewIdIn(held.stderr);
      expect(reviewId).toBeDefined();
      await decide(reviewId ?? "");
      expect(await notes()).toEqual([]); // the approval loads nothing by itself

      const changed = await client.send(copy("80\tapproved\n81\trows!\n"));
      expect(reviewIdIn(changed.stderr)).toBeDefined();
      expect(reviewIdIn(changed.stderr)).not.toBe(reviewId);
      expect(await notes()).toEqual([]);

      await client.send("begin;");
      const loaded = await client.send(copy("80\tapproved\n81\trows\n"));
      expect(loaded.stderr).toBe("");
      expect(loaded.stdout).toContain("COPY 2");
      expect(await notes()).toEqual([]); // inside the client's transaction, not committed yet
      await client.send("commit;");
      expect(await notes()).toEqual(["80:approved", "81:rows"]);

      const again = await client.send(copy("80\tapproved\n81\trows\n"));
      expect(reviewIdIn(again.stderr)).toBeDefined();
      expect(reviewIdIn(again.stderr)).not.toBe(reviewId);
      expect(await notes()).toEqual(["80:approved", "81:rows"]);

      const [review] = await onStore((sql) => sql`select state from reviews where id = ${reviewId ?? ""}`);
      expect(review?.state).toBe("executed");
      const [result] = await onStore(
        (sql) =>
          sql`select data from session_events where type = 'result' and data->>'reviewId' = ${reviewId ?? ""}`,
      );
      expect(result?.data).toMatchObject({ status: "done", rowCount: 2 });
    } finally {
      await client.end();
    }
  });

  it("does not load an approved COPY from another connection", async () => {
    const first = interactivePsql();
    let reviewId: string | undefined;
    try {
      reviewId = reviewIdIn((await first.send("copy notes from stdin;\n90\tx\n\\.")).stderr);
      await decide(reviewId ?? "");
    } finally {
      await first.end();
    }
    const second = interactivePsql();
    try {
      const out = await second.send("copy notes from stdin;\n90\tx\n\\.");
      expect(reviewIdIn(out.stderr)).toBeDefined();
      expect(reviewIdIn(out.stderr)).not.toBe(reviewId);
    } finally {
      await second.end();
    }
    expect(await notes()).toEqual([]);
  });

  it("a denied review loads nothing when the COPY is sent again: held anew", async () => {
    const client = interactivePsql();
    try {
      const reviewId = reviewIdIn((await client.send("copy notes from stdin;\n91\tno\n\\.")).stderr);
      await decide(reviewId ?? "", "deny");
      const out = await client.send("copy notes from stdin;\n91\tno\n\\.");
      expect(reviewIdIn(out.stderr)).toBeDefined();
      expect(reviewIdIn(out.stderr)).not.toBe(reviewId);
      expect(await notes()).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("refuses a held COPY over 16 MB with why (54000), nothing loaded or held", async () => {
    const row = `${"x".repeat(1000)}\n`;
    const rows: string[] = [];
    for (let i = 0; i < 17 * 1024; i++) rows.push(`${100_000 + i}\t${row}`);
    const file = dataFile("large.tsv", rows.join(""));
    const before = await onStore((sql) => sql`select count(*)::int as n from reviews`);
    const out = await psqlScript(`\\copy notes from '${file}'\nselect 1 as after;\n`);
    expect(out.stderr).toMatch(/ERROR:\s+54000:\s+a held COPY FROM STDIN keeps its data in memory/);
    expect(out.stderr).toMatch(/split the load, or ask an admin to allow COPY FROM for this table/);
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
    const after = await onStore((sql) => sql`select count(*)::int as n from reviews`);
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(await notes()).toEqual([]);
  });
});

describe("a large COPY FROM STDIN", () => {
  it("is carried with back-pressure: 200 MB loaded while the gateway holds a fraction of it", async () => {
    await withWrites(async () => {
      const file = path.join(gateway.dataDir, "big.tsv");
      const fd = openSync(file, "w");
      const body = `\t${"y".repeat(200)}\n`;
      for (let block = 0, id = 0; block < 1000; block++) {
        const rows: string[] = [];
        for (let i = 0; i < 1000; i++) rows.push(`${id++}${body}`);
        writeSync(fd, rows.join(""));
      }
      closeSync(fd);
      const size = statSync(file).size;
      // What this process holds above where it started (heap and buffers), sampled while psql sends the file.
      let peak = 0;
      const base = process.memoryUsage();
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peak = Math.max(peak, now.arrayBuffers + now.heapUsed - base.arrayBuffers - base.heapUsed);
      }, 5);
      try {
        const out = await psqlScript(`\\copy notes from '${file}'\n`);
        expect(out.stderr).toBe("");
        expect(out.stdout).toContain("COPY 1000000");
      } finally {
        clearInterval(sampler);
      }
      // Before the listener stopped reading a client whose queue was full, 98 MB of the 206 MB piled up here.
      expect(size).toBeGreaterThan(200_000_000);
      expect(peak).toBeLessThan(64 * 1024 * 1024);
      const [loaded] = await onTarget((sql) => sql`select count(*)::int as n from notes`);
      expect(loaded?.n).toBe(1_000_000);
    });
  });
});
