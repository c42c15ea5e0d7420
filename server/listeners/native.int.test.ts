// Native PostgreSQL clients through the wire listener, on real parts: Debian's psql and node-postgres (pg)
// against the listener, a real PostgreSQL 15 target with card numbers, the console's store on PostgreSQL.
// Each attack is tried the way a client would: through the protocol, with a real client.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { parse, serialize } from "pg-protocol";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import type { PgListener } from "./pg-listener";

const execFileAsync = promisify(execFile);

let pgServer: PostgresServer;
let storeUrl: string;
let targetUrl: string;
let dataDir: string;
let listener: PgListener;
let token: string;
let outsiderToken: string;
const actor = { id: null, label: "test" };

const CARD = "4111 1111 1111 1111";
const OTHER_CARD = "5500 0000 0000 0004";
const PUBLIC_URL = "http://console.example.test";

beforeAll(async () => {
  pgServer = await startPostgres();
  storeUrl = await createDatabase(pgServer.url, "store");
  targetUrl = await createDatabase(pgServer.url, "shop");
  const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
  await target.unsafe(`
    create table customers (id int primary key, name text, card_number text, tags text[], active boolean);
    insert into customers values
      (1, 'Grace', '${CARD}', '{vip,"two words"}', true),
      (2, 'Alan', '${OTHER_CARD}', '{}', false);
    create table notes (id int, body text);
    create table bumps (n int);
    create table tricky (a text, b int);
    insert into tricky values
      (E'tab\there', 1), (E'new\nline', 2), ('back\\slash', 3), ('comma, "quoted"', 4), (null, null),
      ('', 6), ('\\.', 7), ('ünïcødé ✓', 8), (E'cr\rhere', 9);
    create function bump() returns int language sql as $$ insert into bumps values (1) returning n $$;
    -- declared stable (so classified a read), yet they write through bump(): only the read-only scope stops them
    create function sly_bump() returns int language plpgsql stable as $$ begin return bump(); end $$;
    create function unlocking_bump() returns int language plpgsql stable as $$
      begin perform set_config('transaction_read_only', 'off', true); return bump(); end $$;`);
  await target.end();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-native-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  const { createGroup, createServiceAccount } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(actor, { name: "analysts" });
  await createConnection(actor, {
    kind: "postgres",
    name: "shop",
    host: pgServer.host,
    port: pgServer.port,
    database: "shop",
    username: pgServer.user,
    password: pgServer.password,
    groups: ["analysts"],
  });
  token = (await createServiceAccount(actor, { name: "report-bot", groups: ["analysts"] })).token;
  outsiderToken = (await createServiceAccount(actor, { name: "outsider", groups: [] })).token;
  const { startPgListener } = await import("./pg-listener");
  listener = await startPgListener({
    config: {
      port: 0,
      host: "0.0.0.0",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: undefined,
    },
    dataDir,
    publicUrl: PUBLIC_URL,
  });
});

afterAll(async () => {
  await listener?.close();
  const { closeAllPools } = await import("@/server/targets/postgres");
  await closeAllPools();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pgServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface PsqlOptions {
  user?: string;
  password?: string;
  dbname?: string;
  host?: string;
  sslmode?: string;
  extra?: string;
}

function conninfo(o: PsqlOptions = {}) {
  return [
    `host=${o.host ?? "127.0.0.1"}`,
    `port=${listener.port}`,
    `dbname=${o.dbname ?? "shop"}`,
    `user=${o.user ?? "report-bot"}`,
    `sslmode=${o.sslmode ?? "require"}`,
    "connect_timeout=10",
    o.extra ?? "",
  ].join(" ");
}

/** psql with its real output: stdout, stderr (errors with their SQLSTATE: VERBOSITY=verbose) and exit code. */
async function psql(commands: string[], o: PsqlOptions = {}) {
  const args = [conninfo(o), "-X", "-v", "VERBOSITY=verbose", "-v", "ON_ERROR_STOP=0"];
  for (const c of commands) args.push("-c", c);
  try {
    const { stdout, stderr } = await execFileAsync("psql", args, {
      env: { ...process.env, PGPASSWORD: o.password ?? token, PGAPPNAME: "native-test" },
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** A node-postgres client through the listener (TLS unless sslmode=disable), connected. */
async function connectPg(o: PsqlOptions = {}) {
  const c = new pg.Client({
    host: o.host ?? "127.0.0.1",
    port: listener.port,
    database: o.dbname ?? "shop",
    user: o.user ?? "report-bot",
    password: o.password ?? token,
    ssl: o.sslmode === "disable" ? false : { rejectUnauthorized: false },
  });
  c.on("error", () => {});
  try {
    await c.connect();
  } catch (err) {
    await c.end().catch(() => {});
    throw err;
  }
  return c;
}

async function storeText(): Promise<string> {
  const raw = postgres(storeUrl, { max: 1, onnotice: () => {} });
  try {
    const [events] =
      await raw`select coalesce(string_agg(row_to_json(e)::text, E'\\n'), '') as all from session_events e`;
    const [sessions] =
      await raw`select coalesce(string_agg(row_to_json(s)::text, E'\\n'), '') as all from sessions s`;
    return `${events?.all ?? ""}\n${sessions?.all ?? ""}`;
  } finally {
    await raw.end();
  }
}

async function onTarget<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(targetUrl, { max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end();
  }
}

/** Runs `body` while a rule lets the analysts write on shop. */
async function withWrites(body: () => Promise<void>) {
  const { createRule, deleteRule } = await import("@/server/policy");
  const id = await createRule(actor, {
    name: "analysts write",
    connection: "shop",
    groups: ["analysts"],
    classes: ["write"],
    action: "allow",
  });
  try {
    await body();
  } finally {
    await deleteRule(actor, id);
  }
}

describe("psql through the listener", () => {
  it("connects with sslmode=require and reads with card numbers masked", async () => {
    const out = await psql(["select id, name, card_number, tags, active from customers order by id"]);
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("Grace");
    expect(out.stdout).toContain("(2 rows)");
    expect(out.stdout).not.toContain(CARD);
    expect(out.stdout).not.toContain(OTHER_CARD);
    expect(out.stdout).toMatch(/1111/); // the masked form keeps the last digits
    expect(out.stdout).toContain('{vip,"two words"}');
    expect(out.stdout).toMatch(/\|\s+t\s*$/m); // a boolean as PostgreSQL prints it
  });

  it("runs psql's own catalog queries: \\d, \\dt and \\l", async () => {
    const described = await psql(["\\d customers"]);
    expect(described.stderr).toBe("");
    expect(described.stdout).toMatch(/card_number\s+\|\s+text/);
    const tables = await psql(["\\dt"]);
    expect(tables.stdout).toMatch(/customers/);
    expect(tables.stdout).toMatch(/notes/);
    const databases = await psql(["\\l"]);
    expect(databases.stderr).toBe("");
    expect(databases.stdout).toMatch(/shop/);
  });

  it("refuses a denied statement with SQLSTATE 42501 and the rule's message", async () => {
    const out = await psql(["select pg_read_file('/etc/passwd')"]);
    expect(out.stderr).toMatch(/ERROR:\s+42501:/);
    expect(out.stdout).not.toContain("root:");
  });

  it("holds a write under the default rules: 42501 naming the review and its console URL, nothing changed", async () => {
    const out = await psql(["insert into notes values (1, 'held')"]);
    expect(out.stderr).toMatch(/ERROR:\s+42501:\s+held for review [0-9a-f-]{36}/);
    expect(out.stderr).toContain(`${PUBLIC_URL}/inbox/`);
    const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes`);
    expect(row?.n).toBe(0);
  });

  it("relays a target error with its SQLSTATE and masks values the message quotes", async () => {
    const out = await psql(["select card_number::int from customers where id = 1"]);
    expect(out.stderr).toMatch(/ERROR:\s+22P02:/);
    expect(out.stderr).not.toContain(CARD);
  });

  it("keeps SET and a transaction on the client's own target session", async () => {
    await withWrites(async () => {
      const out = await psql([
        "set application_name = 'kept'",
        "begin; insert into notes values (2, 'in a transaction'); select current_setting('application_name') as app, count(*) from notes; rollback",
        "select count(*) as after_rollback from notes",
      ]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toMatch(/kept\s+\|\s+1/);
      expect(out.stdout).toMatch(/after_rollback\s*\n-+\n\s+0/);
    });
  });

  it("runs several statements of one query in one implicit transaction: an error keeps none of them", async () => {
    await withWrites(async () => {
      const failed = await psql([
        "insert into notes values (77, 'kept?'); insert into notes values (78, 'kept?'); select 1/0",
      ]);
      expect(failed.stderr).toMatch(/ERROR:\s+22012:/);
      const [none] = await onTarget((sql) => sql`select count(*)::int as n from notes where id in (77, 78)`);
      expect(none?.n).toBe(0);
      const done = await psql([
        "insert into notes values (77, 'kept'); select count(*) as seen from notes where id = 77",
      ]);
      expect(done.stderr).toBe("");
      expect(done.stdout).toMatch(/seen\s*\n-+\n\s+1/);
      const [kept] = await onTarget((sql) => sql`select count(*)::int as n from notes where id = 77`);
      expect(kept?.n).toBe(1);
      // after it, the client is outside a transaction again: a failing statement alone leaves nothing open
      const after = await psql([
        "insert into notes values (79, 'alone'); select 1/0",
        "select count(*) as alone from notes where id = 79",
      ]);
      expect(after.stdout).toMatch(/alone\s*\n-+\n\s+0/);
      await onTarget((sql) => sql`delete from notes where id in (77, 78, 79)`);
    });
  });

  it("runs a read that calls a writing function read-only: held like any write, nothing changed", async () => {
    // bump() writes; whatever the classifier thinks of it, the target refuses the write in the read's scope
    const out = await psql(["select bump()", "begin", "select bump()", "rollback"]);
    expect(out.stderr).toMatch(/42501/);
    const [row] = await onTarget((sql) => sql`select count(*)::int as n from bumps`);
    expect(row?.n).toBe(0);
  });

  it.each([
    ["writes through a volatile function it calls", "select sly_bump()"],
    ["first turns its scope read-write", "select unlocking_bump()"],
  ])("keeps a read that %s from writing, in and out of the client's transaction", async (_what, read) => {
    const out = await psql([read, "begin", read, "rollback", "begin", "select 1", read, "commit"]);
    expect(out.stderr).toMatch(/42501|25001|25006/);
    const [row] = await onTarget((sql) => sql`select count(*)::int as n from bumps`);
    expect(row?.n).toBe(0);
  });

  // psql prints no SQLSTATE for a refusal at start-up: node-postgres reads it (err.code), psql shows the message.
  it.each([
    ["a wrong password", { password: "ptc_wrong" }, "28P01", /password authentication failed/],
    [
      "a valid token under another user name",
      { user: "someone-else" },
      "28P01",
      /password authentication failed/,
    ],
    [
      "a principal who may not use the connection",
      { user: "outsider" },
      "28000",
      /may not use connection "shop"/,
    ],
    ["an unknown connection", { dbname: "nowhere" }, "3D000", /no connection named "nowhere"/],
  ])("refuses %s with its SQLSTATE", async (_what, o: PsqlOptions, sqlstate, message) => {
    const password = o.password ?? (o.user === "outsider" ? outsiderToken : token);
    await expect(connectPg({ ...o, password })).rejects.toMatchObject({ code: sqlstate });
    const out = await psql(["select 1"], { ...o, password });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe("");
  });

  it("refuses plain text from another machine's address, and accepts TLS from it", async () => {
    await expect(connectPg({ host: "192.0.2.2", sslmode: "disable" })).rejects.toMatchObject({
      code: "28000",
    });
    const plain = await psql(["select 1"], { host: "192.0.2.2", sslmode: "disable" });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/refuses plain-text connections/);
    const secure = await psql(["select 1 as one"], { host: "192.0.2.2", sslmode: "require" });
    expect(secure.stdout).toMatch(/one\s*\n-+\n\s+1/);
  });

  it("answers input with nothing to run as PostgreSQL does (EmptyQueryResponse), and goes on", async () => {
    const out = await psql([";", "-- only a comment", "/* a block */ ;", "select 1 as after"]);
    expect(out.stderr).toBe("");
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
    const c = await connectPg();
    try {
      expect((await c.query("")).command).toBeNull();
    } finally {
      await c.end();
    }
  });

  it("refuses an input over MAX_STATEMENT_BYTES with 54000, and goes on", async () => {
    const file = path.join(dataDir, "big.sql");
    writeFileSync(file, `select '${"x".repeat(300 * 1024)}' as big;\nselect 1 as after;\n`);
    const out = await psql([`\\i ${file}`]);
    expect(out.stderr).toMatch(/ERROR:\s+54000:\s+the statement is larger than the limit/);
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
  });

  it("accepts plain text from loopback", async () => {
    const out = await psql(["select 1 as one"], { sslmode: "disable" });
    expect(out.stdout).toMatch(/one\s*\n-+\n\s+1/);
  });

  it("serves the generated certificate: verify-ca trusts exactly it; its files are 0600", async () => {
    const certFile = path.join(dataDir, "pg-listener.crt");
    expect(statSync(certFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, "pg-listener.key")).mode & 0o777).toBe(0o600);
    const verified = await psql(["select 1 as one"], {
      sslmode: "verify-full",
      host: "localhost",
      extra: `sslrootcert=${certFile}`,
    });
    expect(verified.stderr).toBe("");
    const { generateSelfSigned } = await import("./tls-certificate");
    const otherCa = path.join(dataDir, "other-ca.crt");
    writeFileSync(otherCa, generateSelfSigned().cert);
    const untrusted = await psql(["select 1"], { sslmode: "verify-ca", extra: `sslrootcert=${otherCa}` });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate verify failed/);
  });

  it("limits failed passwords per address and per user name, and only them", async () => {
    // Failures until refused for too many (10 a minute, refilling as time passes: on a slow machine it may take
    // a few more tries than 10 to get there).
    let last = { stderr: "" };
    for (let i = 0; i < 30 && !/too many failed passwords/.test(last.stderr); i++) {
      last = await psql(["select 1"], { host: "192.0.2.2", user: "guessed", password: `ptc_${i}` });
    }
    expect(last.stderr).toMatch(/too many failed passwords/);
    // that name, from another address
    await expect(connectPg({ user: "guessed" })).rejects.toMatchObject({ code: "28000" });
    // that address, even with a right token
    await expect(connectPg({ host: "192.0.2.2" })).rejects.toMatchObject({ code: "28000" });
    // others are not locked out
    const c = await connectPg();
    await c.end();
  });
});

describe("COPY through the listener", () => {
  /** psql straight to the target, as the reference for what PostgreSQL itself writes. */
  async function psqlDirect(command: string) {
    const { stdout } = await execFileAsync("psql", [targetUrl, "-X", "-c", command]);
    return stdout;
  }

  it("streams COPY TO STDOUT masked exactly as the SELECT of the same columns (psql \\copy and COPY)", async () => {
    const copied = await psql([
      "\\copy (select id, name, card_number from customers order by id) to stdout",
      "copy customers (id, card_number) to stdout",
    ]);
    expect(copied.stderr).toBe("");
    expect(copied.stdout).not.toContain(CARD);
    expect(copied.stdout).not.toContain(OTHER_CARD);
    const c = await connectPg();
    try {
      const selected = await c.query("select id, name, card_number from customers order by id");
      const expected = selected.rows.map((r) => `${r.id}\t${r.name}\t${r.card_number}\n`).join("");
      expect(copied.stdout.startsWith(expected)).toBe(true);
      expect(String(selected.rows[0]?.card_number)).toMatch(/1111$/);
    } finally {
      await c.end();
    }
  });

  it("masks COPY TO STDOUT by lineage, not by column name", async () => {
    const out = await psql([
      "copy (select upper(card_number) as harmless from customers order by id) to stdout",
    ]);
    expect(out.stderr).toBe("");
    expect(out.stdout).not.toContain(CARD);
    expect(out.stdout.trim().split("\n")).toHaveLength(2);
  });

  it.each([
    ["text", "copy tricky to stdout"],
    ["CSV with a header", "copy tricky to stdout with (format csv, header)"],
    [
      "CSV with its own delimiter and null",
      "copy tricky (b, a) to stdout with (format csv, delimiter ';', null 'NULL')",
    ],
    ["CSV of a single column", "copy (select a from tricky) to stdout with (format csv)"],
    [
      "text with its own null",
      "copy (select * from tricky where b is null or b < 3) to stdout with (null '-')",
    ],
  ])("writes %s byte for byte as PostgreSQL does", async (_format, command) => {
    const through = await psql([command]);
    expect(through.stderr).toBe("");
    expect(through.stdout).toBe(await psqlDirect(command));
  });

  it("has values that need COPY's escapes in the table it compares (so the comparison can fail)", async () => {
    const out = await psql(["copy tricky to stdout"]);
    for (const escaped of ["tab\\there", "new\\nline", "back\\\\slash", "\\N\t\\N", "cr\\rhere"]) {
      expect(out.stdout).toContain(escaped);
    }
  });

  it("decides COPY TO STDOUT as a read of what it reads: a dangerous function is refused, nothing sent", async () => {
    const out = await psql(["copy (select pg_read_file('/etc/passwd')) to stdout", "select 1 as after"]);
    expect(out.stderr).toMatch(/ERROR:\s+42501:/);
    expect(out.stdout).not.toContain("root:");
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
  });

  it("decides COPY (a write RETURNING ...) TO STDOUT as the write it is: held, nothing deleted", async () => {
    const out = await psql([
      "copy (delete from customers returning card_number) to stdout",
      "copy (with gone as (delete from customers returning *) select count(*) from gone) to stdout",
    ]);
    expect(out.stderr.match(/ERROR:\s+42501:\s+held for review/g)).toHaveLength(2);
    expect(out.stdout).not.toContain(CARD);
    const [row] = await onTarget((sql) => sql`select count(*)::int as n from customers`);
    expect(row?.n).toBe(2);
  });

  it("refuses COPY to a file on the server, and binary COPY, and goes on", async () => {
    const out = await psql([
      "copy customers to '/tmp/stolen.txt'",
      "copy customers to stdout with (format binary)",
      "select 1 as after",
    ]);
    expect(out.stderr).toMatch(/ERROR:\s+42501:/);
    expect(out.stderr).toMatch(/ERROR:\s+0A000:\s+COPY in binary format/);
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
  });

  it("holds COPY FROM STDIN: nothing reaches the target, the review counts its bytes, the data is kept nowhere", async () => {
    const file = path.join(dataDir, "rows.tsv");
    const data = "100\tfrom a file\n101\tanother row\n";
    writeFileSync(file, data);
    const out = await psql([`\\copy notes from '${file}'`, "select 1 as after"]);
    const reviewId = /held for review ([0-9a-f-]{36})/.exec(out.stderr)?.[1];
    expect(reviewId).toBeDefined();
    expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
    const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes where id >= 100`);
    expect(row?.n).toBe(0);
    const { readReview } = await import("@/server/approvals");
    const review = await readReview(reviewId ?? "");
    expect(JSON.stringify(review?.reasons)).toContain(`COPY FROM STDIN of ${Buffer.byteLength(data)} bytes`);
    expect(review?.input).toMatch(/^COPY\s+notes\s+FROM\s+STDIN/i);
    expect(await storeText()).not.toContain("another row"); // the data itself is kept nowhere
  });

  it("loads COPY FROM STDIN where the rules allow writes (copy-in.int.test.ts has the rest)", async () => {
    await withWrites(async () => {
      const file = path.join(dataDir, "allowed.tsv");
      writeFileSync(file, "200\tallowed\n");
      const out = await psql([`\\copy notes from '${file}'`, "select 1 as after"]);
      expect(out.stderr).toBe("");
      expect(out.stdout).toContain("COPY 1");
      expect(out.stdout).toMatch(/after\s*\n-+\n\s+1/);
      const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes where id = 200`);
      expect(row?.n).toBe(1);
      await onTarget((sql) => sql`delete from notes where id = 200`);
    });
  });

  it("records COPY TO STDOUT like a result, masked", async () => {
    await psql(["copy (select name, card_number from customers where id = 2) to stdout"]);
    const stored = await storeText();
    expect(stored).toContain("where id = 2");
    expect(stored).not.toContain(OTHER_CARD);
  });
});

describe("postgres.js (prepare: true) through the listener", () => {
  function connectPostgresJs() {
    return postgres({
      host: "127.0.0.1",
      port: listener.port,
      database: "shop",
      username: "report-bot",
      password: token,
      ssl: { rejectUnauthorized: false },
      prepare: true,
      max: 1,
      onnotice: () => {},
    });
  }

  it("describes prepared statements before they run: parameters typed by the target, masked rows as text", async () => {
    const sql = connectPostgresJs();
    try {
      for (const id of [1, 2, 1]) {
        const rows = await sql`select id, name, card_number, active from customers where id = ${id}`;
        expect(rows).toHaveLength(1);
        expect(String(rows[0]?.id)).toBe(String(id));
        expect(rows[0]?.name).toBe(id === 1 ? "Grace" : "Alan");
        expect(String(rows[0]?.card_number)).not.toMatch(/4111 1111 1111 1111|5500 0000 0000 0004/);
      }
      const masked = await sql`select card_number from customers where name = ${"Grace"}`;
      expect(String(masked[0]?.card_number)).toMatch(/1111$/);
      const none = await sql`select id from customers where id = ${99}`;
      expect(none).toHaveLength(0);
    } finally {
      await sql.end();
    }
  });

  it("refuses at Describe what the rules deny, and relays the target's errors with their SQLSTATE", async () => {
    const sql = connectPostgresJs();
    try {
      await expect(sql`select pg_read_file(${"/etc/passwd"})`).rejects.toMatchObject({ code: "42501" });
      expect(await storeText()).toMatch(/"describedOnly":\s*true/); // the refused attempt is recorded
      await expect(sql`select * from no_such_table where id = ${1}`).rejects.toMatchObject({ code: "42P01" });
      await expect(sql`insert into notes values (${11}, ${"held"})`).rejects.toMatchObject({
        code: "42501",
        message: expect.stringMatching(/held for review/),
      });
      const [row] = await onTarget((t) => t`select count(*)::int as n from notes where id = 11`);
      expect(row?.n).toBe(0);
      expect((await sql`select ${5}::int + 1 as six`)[0]?.six).toBeDefined(); // still usable
    } finally {
      await sql.end();
    }
  });

  it("reports the client's transaction failed when the target cannot describe a statement in it", async () => {
    const socket = net.connect(listener.port, "127.0.0.1");
    const messages: { name: string; status?: string; code?: string }[] = [];
    const parsed = parse(socket, (m) => messages.push(m as never));
    const until = async (count: number) => {
      while (messages.filter((m) => m.name === "readyForQuery").length < count) {
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    socket.write(serialize.startup({ user: "report-bot", database: "shop" }));
    while (!messages.some((m) => m.name === "authenticationCleartextPassword")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    socket.write(serialize.password(token));
    await until(1);
    socket.write(serialize.query("begin"));
    await until(2);
    socket.write(
      Buffer.concat([
        serialize.parse({ text: "select * from no_such_table where id = $1" }),
        serialize.describe({ type: "S" }),
        serialize.sync(),
      ]),
    );
    await until(3);
    socket.write(serialize.query("select 1"));
    await until(4);
    socket.end(serialize.end());
    await parsed;
    const ready = messages.filter((m) => m.name === "readyForQuery").map((m) => m.status);
    expect(ready).toEqual(["I", "T", "E", "E"]);
    expect(messages.filter((m) => m.name === "error").map((m) => m.code)).toEqual(["42P01", "25P02"]);
  });

  it("runs a transaction of prepared writes an allow rule lets through", async () => {
    await withWrites(async () => {
      const sql = connectPostgresJs();
      try {
        await sql.begin(async (tx) => {
          await tx`insert into notes values (${12}, ${"postgres.js"})`;
          const [n] = await tx`select count(*) as n from notes where id = ${12}`;
          expect(Number(n?.n)).toBe(1);
        });
        const [row] = await onTarget((t) => t`select count(*)::int as n from notes where id = 12`);
        expect(row?.n).toBe(1);
      } finally {
        await sql.end();
        await onTarget((t) => t`delete from notes where id = 12`);
      }
    });
  });
});

describe("binary parameters", () => {
  /**
   * Parse (with declared types), Bind (Buffers go in binary format), Execute, Sync on a raw socket: through the
   * listener (plain text from loopback) or straight to the target (its Unix socket, trusted). The data rows'
   * fields, or the error's code and message.
   */
  async function extended(
    to: "listener" | "target",
    text: string,
    types: number[],
    values: (Buffer | string | null)[],
    binaryResults = false,
  ) {
    const socket =
      to === "listener"
        ? net.connect(listener.port, "127.0.0.1")
        : net.connect(path.join(path.dirname(pgServer.dataDir), `.s.PGSQL.${pgServer.port}`));
    const messages: { name: string; fields?: unknown[]; code?: string; message?: string }[] = [];
    const parsed = parse(socket, (m) => messages.push(m as never));
    const until = async (name: string, count = 1) => {
      while (messages.filter((m) => m.name === name).length < count) {
        if (socket.destroyed) throw new Error("closed");
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    socket.write(
      serialize.startup({ user: to === "listener" ? "report-bot" : pgServer.user, database: "shop" }),
    );
    if (to === "listener") {
      await until("authenticationCleartextPassword");
      socket.write(serialize.password(token));
    }
    await until("readyForQuery");
    socket.write(
      Buffer.concat([
        serialize.parse({ text, types }),
        serialize.bind({ values, binary: binaryResults }),
        serialize.execute({}),
        serialize.sync(),
      ]),
    );
    await until("readyForQuery", 2);
    socket.end(serialize.end());
    await parsed;
    const error = messages.find((m) => m.name === "error");
    if (error) return { code: error.code, message: error.message };
    return { rows: messages.filter((m) => m.name === "dataRow").map((m) => m.fields) };
  }

  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const int64 = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    return b;
  };
  const float64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(n);
    return b;
  };
  const float32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatBE(n);
    return b;
  };

  it.each<[string, number, Buffer]>([
    ["integer", 23, int32(-42)],
    ["bigint", 20, int64(2n ** 40n + 1n)],
    ["smallint", 21, Buffer.from([0xff, 0xfe])],
    ["boolean", 16, Buffer.from([1])],
    ["double precision", 701, float64(Math.PI)],
    ["real", 700, float32(0.1)],
    ["text", 25, Buffer.from("ünïcødé, 'quoted'", "utf8")],
    ["bytea", 17, Buffer.from([0, 1, 0x5c, 255])],
    ["uuid", 2950, Buffer.from("0123456789abcdef0123456789abcdef", "hex")],
    ["jsonb", 3802, Buffer.concat([Buffer.from([1]), Buffer.from('{"b": [1, 2], "a": "x"}')])],
    ["oid", 26, Buffer.from([0xee, 0x6b, 0x28, 0x00])],
  ])("takes a binary %s parameter as PostgreSQL itself reads it", async (type, oid, value) => {
    const text = `select ($1::${type})::text as v`;
    const direct = await extended("target", text, [oid], [value]);
    expect(direct.rows).toHaveLength(1);
    expect(await extended("listener", text, [oid], [value])).toEqual(direct);
  });

  it("types a binary parameter the statement did not declare as the target does (node-postgres sends Buffers so)", async () => {
    const text = "select ($1::int + 1)::text as v, $2::bytea as b";
    const values = [int32(41), Buffer.from([7, 8])];
    const direct = await extended("target", text, [0, 0], values);
    expect(await extended("listener", text, [0, 0], values)).toEqual(direct);
    const c = await connectPg();
    try {
      const result = await c.query("select $1::bytea as b", [Buffer.from([0, 1, 255])]);
      expect(Buffer.isBuffer(result.rows[0]?.b)).toBe(true);
      expect(result.rows[0]?.b).toEqual(Buffer.from([0, 1, 255]));
    } finally {
      await c.end();
    }
  });

  it("passes a text parameter to the target as the client's text, whatever type the target gives it", async () => {
    const text =
      "select ($1::boolean)::text as a, ($2::bytea)::text as b, ($3::jsonb)::text as c, ($4::int[])::text as d";
    const values = ["true", "\\x0708", '{"k": 1}', "{1,2}"];
    const direct = await extended("target", text, [0, 0, 0, 0], values);
    expect(direct).toEqual({ rows: [["true", "\\x0708", '{"k": 1}', "{1,2}"]] });
    expect(await extended("listener", text, [0, 0, 0, 0], values)).toEqual(direct);
    const c = await connectPg();
    try {
      const result = await c.query("select $1::boolean as yes", [true]);
      expect(result.rows[0]?.yes).toBe(true);
    } finally {
      await c.end();
    }
  });

  it("refuses, naming it, a binary parameter of a type it does not decode and binary results (0A000)", async () => {
    const timestamptz = await extended(
      "listener",
      "select $1::timestamptz as v",
      [1184],
      [Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])],
    );
    expect(timestamptz).toMatchObject({ code: "0A000", message: expect.stringMatching(/\$1: .*OID 1184/) });
    const binary = await extended("listener", "select 1 as v", [], [], true);
    expect(binary).toMatchObject({ code: "0A000", message: expect.stringMatching(/text only/) });
    const malformed = await extended("listener", "select $1::int as v", [23], [Buffer.from([1, 2])]);
    expect(malformed).toMatchObject({
      code: "0A000",
      message: expect.stringMatching(/integer .* malformed/),
    });
  });
});

describe("before authentication", () => {
  /** Opens a raw TCP connection to the listener, writes `bytes`, and collects what comes back until it closes. */
  function raw(bytes: Buffer[], until: (received: Buffer) => boolean = () => false) {
    return new Promise<{ received: Buffer; closed: boolean }>((resolve) => {
      const socket = net.connect(listener.port, "127.0.0.1");
      let received = Buffer.alloc(0);
      socket.on("data", (d) => {
        received = Buffer.concat([received, d]);
        if (until(received)) {
          socket.destroy();
          resolve({ received, closed: false });
        }
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve({ received, closed: true }));
      for (const b of bytes) socket.write(b);
    });
  }

  const request = (code: number) => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(8);
    b.writeInt32BE(code, 4);
    return b;
  };

  it("closes a connection whose start-up packet announces more than it may send", async () => {
    const header = Buffer.alloc(8);
    header.writeInt32BE(0x3fffffff); // a 1 GB start-up packet
    header.writeInt32BE(196608, 4); // protocol 3.0
    const { closed } = await raw([header, Buffer.alloc(100 * 1024, 0x61)]);
    expect(closed).toBe(true);
  });

  it("answers a GSSAPI encryption request with N, then goes on to TLS", async () => {
    const first = await raw([request(80877104)], (r) => r.length >= 1);
    expect(first.received.toString()).toBe("N");
    const both = await raw([request(80877104), request(80877103)], (r) => r.length >= 2);
    expect(both.received.toString()).toBe("NS");
  });
});

describe("pipelined simple queries", () => {
  it("answers queries sent in one write in order, one ReadyForQuery each", async () => {
    // plain text from loopback, so the bytes are the protocol's: start-up, password, then three Queries at once
    const socket = net.connect(listener.port, "127.0.0.1");
    const messages: { name: string; fields?: unknown[]; status?: string }[] = [];
    const parsed = parse(socket, (m) => messages.push(m as never));
    const waitFor = async (count: number) => {
      while (messages.filter((m) => m.name === "readyForQuery").length < count) {
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    socket.write(serialize.startup({ user: "report-bot", database: "shop" }));
    while (!messages.some((m) => m.name === "authenticationCleartextPassword")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    socket.write(serialize.password(token));
    await waitFor(1);
    socket.write(
      Buffer.concat([
        serialize.query("select 'first' as n"),
        serialize.query("select pg_read_file('/etc/passwd')"),
        serialize.query("select 'third' as n"),
      ]),
    );
    await waitFor(4);
    socket.end(serialize.end());
    await parsed;
    const after = messages.slice(messages.findIndex((m) => m.name === "readyForQuery") + 1);
    expect(after.map((m) => m.name)).toEqual([
      "rowDescription",
      "dataRow",
      "commandComplete",
      "readyForQuery",
      "error",
      "readyForQuery",
      "rowDescription",
      "dataRow",
      "commandComplete",
      "readyForQuery",
    ]);
    expect(after.filter((m) => m.name === "dataRow").map((m) => m.fields)).toEqual([["first"], ["third"]]);
  });
});

describe("cancelling", () => {
  it("cancels the running statement on the target when psql is interrupted (CancelRequest)", async () => {
    const child = spawn("psql", [conninfo(), "-X", "-v", "VERBOSITY=verbose", "-c", "select pg_sleep(30)"], {
      env: { ...process.env, PGPASSWORD: token },
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += String(d);
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const sleeping = async () => {
      const [row] = await onTarget(
        (sql) =>
          sql`select count(*)::int as n from pg_stat_activity where application_name = 'portcullis' and query like '%pg_sleep(30)%' and state = 'active'`,
      );
      return row?.n ?? 0;
    };
    while ((await sleeping()) === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    await exited;
    expect(stderr).toMatch(/57014/);
    expect(await sleeping()).toBe(0);
  });
});

describe("a client that goes away", () => {
  it("leaves nothing behind on the target when killed mid-transaction", async () => {
    await withWrites(async () => {
      const child: ChildProcessWithoutNullStreams = spawn("psql", [conninfo(), "-X"], {
        env: { ...process.env, PGPASSWORD: token },
      });
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += String(d);
      });
      let exited = false;
      child.on("exit", () => {
        exited = true;
      });
      child.stdin.write("begin;\ninsert into notes values (99, 'never committed');\n");
      // psql keeps stdin open: the pinned target session holds the open transaction, with the row in it
      const openTransactions = async () => {
        const [row] = await onTarget(
          (sql) =>
            sql`select count(*)::int as n from pg_stat_activity where application_name = 'portcullis' and state = 'idle in transaction' and backend_xid is not null`,
        );
        return row?.n ?? 0;
      };
      while ((await openTransactions()) === 0) {
        if (exited) throw new Error(`psql ended before its transaction was open: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGKILL");
      while ((await openTransactions()) > 0) await new Promise((r) => setTimeout(r, 50));
      const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes where id = 99`);
      expect(row?.n).toBe(0);
    });
  });
});

describe("a session that loses its footing", () => {
  it("disconnects the client when the target ends its session, instead of going on in a new one", async () => {
    await withWrites(async () => {
      const c = await connectPg();
      try {
        await c.query("begin");
        await c.query("insert into notes values (77, 'lost with its transaction')");
        await onTarget(
          (sql) =>
            sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'portcullis' and backend_xid is not null`,
        );
        await expect(c.query("commit")).rejects.toThrow();
        const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes where id = 77`);
        expect(row?.n).toBe(0);
      } finally {
        await c.end().catch(() => {});
      }
    });
  });

  it("refuses the next statement once the principal may no longer use the connection", async () => {
    const { createServiceAccount, listGroups, removeGroupMember } = await import("@/server/auth");
    const account = await createServiceAccount(actor, { name: "leaving-bot", groups: ["analysts"] });
    const c = await connectPg({ user: "leaving-bot", password: account.token });
    try {
      expect((await c.query("select 1 as n")).rows[0]?.n).toBe(1);
      const analysts = (await listGroups()).find((g) => g.name === "analysts");
      await removeGroupMember(actor, analysts?.id ?? "", account.id);
      await expect(c.query("select 2 as n")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("ends the connection when its token is revoked", async () => {
    const { createServiceAccount, revokeToken } = await import("@/server/auth");
    const account = await createServiceAccount(actor, { name: "revoked-bot", groups: ["analysts"] });
    const c = await connectPg({ user: "revoked-bot", password: account.token });
    try {
      expect((await c.query("select 1 as n")).rows[0]?.n).toBe(1);
      await revokeToken(actor, account.tokenId);
      await expect(c.query("select 2 as n")).rejects.toThrow();
      await expect(connectPg({ user: "revoked-bot", password: account.token })).rejects.toMatchObject({
        code: "28P01",
      });
    } finally {
      await c.end().catch(() => {});
    }
  });
});

describe("the recording", () => {
  it("records each client connection as a native session with its statements, and no card number or token", async () => {
    await psql(["select card_number from customers", "select 2 as two"]);
    const raw = postgres(storeUrl, { max: 1, onnotice: () => {} });
    try {
      const sessions = await raw`
        select s.id, s.channel, s.state, s.statements, s.principal_label,
          (select data from session_events e where e.session_id = s.id and e.type = 'connect') as connect
        from sessions s where s.channel = 'native' order by s.started_at desc limit 1`;
      const [session] = sessions;
      expect(session?.channel).toBe("native");
      expect(session?.statements).toBe(2);
      expect(session?.principal_label).toBe("service:report-bot");
      expect(session?.connect).toMatchObject({
        applicationName: "native-test",
        clientAddress: "127.0.0.1",
        tls: true,
      });
      const statements = await raw`
        select data->>'input' as input from session_events where session_id = ${session?.id as string} and type = 'statement' order by seq`;
      expect(statements.map((s) => s.input)).toEqual([
        "select card_number from customers",
        "select 2 as two",
      ]);
      // the session ends when the client leaves
      let state = session?.state as string | undefined;
      while (state === "live") {
        await new Promise((r) => setTimeout(r, 50));
        const [row] = await raw`select state from sessions where id = ${session?.id as string}`;
        state = row?.state;
      }
      expect(state).toBe("ended");
    } finally {
      await raw.end();
    }
    const stored = await storeText();
    expect(stored).not.toContain(CARD);
    expect(stored).not.toContain(OTHER_CARD);
    expect(stored).not.toContain(token);
  });
});

describe("secrets", () => {
  it("never writes a token, a password tried or a card number to the log or the data directory", async () => {
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "));
      }),
    );
    const tried = "ptc_a-guess-that-must-not-be-logged";
    try {
      await psql(["select 1"], { password: tried });
      await psql(["select card_number::int from customers"]);
      const c = await connectPg();
      await c.query("select $1::text as p", [CARD]).catch(() => {});
      await c.end();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile())
      .map((f) => readFileSync(path.join(f.parentPath, f.name)).toString("latin1"));
    for (const text of [...logged, ...files]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(tried);
      expect(text).not.toContain(CARD);
    }
  });
});

describe("node-postgres (pg) through the listener", () => {
  const client = () => connectPg();

  it("runs simple queries with masked rows and typed columns", async () => {
    const c = await client();
    try {
      const result = await c.query("select id, card_number, active from customers order by id");
      expect(result.rows).toHaveLength(2);
      expect(result.rows[0]?.id).toBe(1); // int4 parsed as a number: the column's type is passed on
      expect(result.rows[0]?.active).toBe(true);
      expect(String(result.rows[0]?.card_number)).not.toContain(CARD);
    } finally {
      await c.end();
    }
  });

  it("reports a masked column as text whatever its type, so a driver does not parse the mask", async () => {
    const c = await client();
    try {
      const result = await c.query("select 4111111111111111::int8 as card, 42::int8 as answer");
      expect(result.fields.map((f) => f.dataTypeID)).toEqual([25, 20]);
      expect(String(result.rows[0]?.card)).not.toContain("4111111111111111");
      expect(result.rows[0]?.answer).toBe("42"); // node-postgres reads int8 as a string
    } finally {
      await c.end();
    }
  });

  it("explains a parameterized statement once, on the client's session, and never again while it holds", async () => {
    const { lineageStats } = await import("@/server/masking-lineage");
    const c = await client();
    try {
      const text = "select name, card_number from customers where id = $1 and active = $2";
      const explained = lineageStats.explained;
      const first = await c.query(text, [1, true]);
      // Before the run it is not explained without its values (that could only fail): once, as a generic plan.
      expect(lineageStats.explained).toBe(explained + 1);
      expect(String(first.rows[0]?.card_number)).not.toContain(CARD);
      const again = await c.query(text, [2, false]);
      expect(lineageStats.explained).toBe(explained + 1);
      expect(again.rows[0]?.name).toBe("Alan");
      expect(String(again.rows[0]?.card_number)).not.toContain(OTHER_CARD);
    } finally {
      await c.end();
    }
  });

  it("runs a parameterized query (extended protocol): the value stays a parameter, rows masked, value recorded masked", async () => {
    const c = await client();
    try {
      const result = await c.query("select id, card_number, $1::text as echo from customers where id = $2", [
        CARD,
        1,
      ]);
      expect(result.rows).toHaveLength(1);
      expect(result.rows[0]?.id).toBe(1);
      expect(String(result.rows[0]?.card_number)).not.toContain(CARD);
      expect(String(result.rows[0]?.echo)).not.toContain(CARD); // a parameter echoed back is masked too
      // a parameter is never spliced into the text: a quote in it is data, not SQL
      const quoted = await c.query("select count(*)::int as n from customers where name = $1", [
        "x' or '1'='1",
      ]);
      expect(quoted.rows[0]?.n).toBe(0);
      // a named prepared statement, executed twice
      const named = { name: "by-id", text: "select name from customers where id = $1" };
      expect((await c.query({ ...named, values: [1] })).rows[0]?.name).toBe("Grace");
      expect((await c.query({ ...named, values: [2] })).rows[0]?.name).toBe("Alan");
    } finally {
      await c.end();
    }
    const stored = await storeText();
    expect(stored).toContain("where id = $2");
    expect(stored).not.toContain(CARD);
  });

  it("decides parameterized statements like any other: denied 42501, a write held for review, nothing changed", async () => {
    const c = await client();
    try {
      await expect(c.query("select pg_read_file($1)", ["/etc/passwd"])).rejects.toMatchObject({
        code: "42501",
      });
      await expect(c.query("insert into notes values ($1, $2)", [5, "held?"])).rejects.toMatchObject({
        code: "42501",
        message: expect.stringMatching(/held for review [0-9a-f-]{36}/),
      });
      await expect(c.query("select $1::int; select 2", [1])).rejects.toMatchObject({ code: "42601" });
      const [row] = await onTarget((sql) => sql`select count(*)::int as n from notes where id = 5`);
      expect(row?.n).toBe(0);
      // values and results travel as text only
      const binary = { text: "select $1::int as n", values: [1], binary: true } as pg.QueryConfig;
      await expect(c.query(binary)).rejects.toMatchObject({ code: "0A000" });
      expect((await c.query("select $1::int as n", [3])).rows[0]?.n).toBe(3); // still usable
    } finally {
      await c.end();
    }
  });

  it("runs parameterized writes an allow rule lets through, inside the client's transaction", async () => {
    await withWrites(async () => {
      const c = await client();
      try {
        await c.query("begin");
        await c.query("insert into notes values ($1, $2)", [6, "from a driver"]);
        expect((await c.query("select count(*)::int as n from notes where id = $1", [6])).rows[0]?.n).toBe(1);
        await c.query("rollback");
        expect((await c.query("select count(*)::int as n from notes where id = $1", [6])).rows[0]?.n).toBe(0);
      } finally {
        await c.end();
      }
    });
  });

  it("keeps the client's own savepoints, even one named like the gateway's, around its reads", async () => {
    await withWrites(async () => {
      const c = await client();
      try {
        await c.query("begin");
        await c.query("insert into notes values ($1, $2)", [40, "kept"]);
        await c.query("savepoint portcullis_read");
        await c.query("select count(*) from notes");
        await c.query("insert into notes values ($1, $2)", [41, "rolled back"]);
        await c.query("select count(*) from notes");
        await c.query("rollback to savepoint portcullis_read");
        await c.query("select count(*) from notes");
        await c.query("commit");
        const rows = await onTarget((sql) => sql`select id from notes where id in (40, 41) order by id`);
        expect(rows.map((r) => r.id)).toEqual([40]);
        await onTarget((sql) => sql`delete from notes where id in (40, 41)`);
      } finally {
        await c.end();
      }
    });
  });

  it("answers a read in a failed transaction with 25P02, as PostgreSQL does, until the client rolls back", async () => {
    const c = await client();
    try {
      await c.query("begin");
      await expect(c.query("select 1 / 0")).rejects.toMatchObject({ code: "22012" });
      await expect(c.query("select count(*) from notes")).rejects.toMatchObject({ code: "25P02" });
      await c.query("rollback");
      expect((await c.query("select 1 as one")).rows[0]?.one).toBe(1);
    } finally {
      await c.end();
    }
  });

  it("leaves no read-only scope behind a read: the writes after it, in and out of a transaction, commit", async () => {
    // Each read runs in a read-only scope whose end is not waited for (decision 0020): the next statement must
    // still find the client's session as it was, outside a transaction and inside the client's own one.
    await withWrites(async () => {
      const c = await client();
      try {
        for (let i = 0; i < 3; i++) {
          await c.query("select count(*) from notes");
          await c.query("insert into notes values ($1, $2)", [20 + i, "after a read"]);
        }
        await c.query("begin");
        await c.query("select count(*) from notes");
        await c.query("insert into notes values ($1, $2)", [30, "in the client's transaction"]);
        await c.query("select count(*) from notes");
        await c.query("commit");
        const [row] = await onTarget(
          (sql) => sql`select count(*)::int as n from notes where id in (20, 21, 22, 30)`,
        );
        expect(row?.n).toBe(4);
        await onTarget((sql) => sql`delete from notes where id in (20, 21, 22, 30)`);
      } finally {
        await c.end();
      }
    });
  });
});
