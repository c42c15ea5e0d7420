// A person's database credentials through the wire listener, on real parts: Debian's psql (sslmode=require and
// verify-ca against the generated certificate), node-postgres and postgres.js speaking SCRAM-SHA-256, a real
// PostgreSQL 15 target with card numbers, the console's store on PostgreSQL. Each attack is tried the way a
// client would: through the protocol, with a real client.
import { execFile } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { serialize } from "pg-protocol";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Principal } from "@/server/auth";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import type { PgListener } from "./pg-listener";

const execFileAsync = promisify(execFile);

let pgServer: PostgresServer;
let storeUrl: string;
let dataDir: string;
let listener: PgListener;
/** a second listener that closes idle clients after a second and takes plain text from anywhere */
let idleListener: PgListener;
let ana: Principal;
let anaId: string;
let botToken: string;
const actor = { id: null, label: "test" };
const ANA = "ana@example.com";
const CARD = "4111 1111 1111 1111";
/** every credential handed out in this file, to look for in the log, the data directories and the store */
const issued: string[] = [];

beforeAll(async () => {
  pgServer = await startPostgres();
  storeUrl = await createDatabase(pgServer.url, "store");
  const shopUrl = await createDatabase(pgServer.url, "shop");
  await createDatabase(pgServer.url, "crm");
  const target = postgres(shopUrl, { max: 1, onnotice: () => {} });
  await target.unsafe(`
    create table customers (id int primary key, name text, card_number text);
    insert into customers values (1, 'Grace', '${CARD}');`);
  await target.end();
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-dbcred-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  process.env.PG_LISTEN_PORT = "6432"; // the Connect dialog's address; the listeners below bind port 0
  const { createGroup, createServiceAccount, createUser, loadPrincipal } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(actor, { name: "analysts" });
  for (const name of ["shop", "crm"]) {
    await createConnection(actor, {
      kind: "postgres",
      name,
      host: pgServer.host,
      port: pgServer.port,
      database: name,
      username: pgServer.user,
      password: pgServer.password,
      groups: ["analysts"],
    });
  }
  anaId = await createUser(actor, {
    email: ANA,
    password: "correct horse battery staple",
    groups: ["analysts"],
  });
  ana = (await loadPrincipal(anaId, "session")) as Principal;
  botToken = (await createServiceAccount(actor, { name: "report-bot", groups: ["analysts"] })).token;
  const { startPgListener } = await import("./pg-listener");
  const base = { tlsCertFile: undefined, tlsKeyFile: undefined, host: "0.0.0.0", port: 0 };
  listener = await startPgListener({
    config: { ...base, allowPlaintext: false, idleTimeoutSeconds: undefined },
    dataDir,
    publicUrl: "http://console.example.test",
  });
  idleListener = await startPgListener({
    config: { ...base, allowPlaintext: true, idleTimeoutSeconds: 1 },
    dataDir,
    publicUrl: "http://console.example.test",
  });
});

afterAll(async () => {
  await listener?.close();
  await idleListener?.close();
  const { closeAllPools } = await import("@/server/targets/postgres");
  await closeAllPools();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pgServer?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A new credential for Ana (or another person) on a connection, through the same call as the Connect dialog. */
async function credential(connection = "shop", who: Principal = ana, validForSeconds = 3600) {
  const { issueDatabaseCredential } = await import("./connect");
  const created = await issueDatabaseCredential(who, { connection, validForSeconds });
  issued.push(created.password);
  return created;
}

interface ClientOptions {
  user?: string;
  password: string;
  dbname?: string;
  host?: string;
  port?: number;
  sslmode?: string;
  extra?: string;
}

/** psql with its real output: stdout, stderr (errors with their SQLSTATE: VERBOSITY=verbose) and exit code. */
async function psql(commands: string[], o: ClientOptions) {
  const conninfo = [
    `host=${o.host ?? "127.0.0.1"}`,
    `port=${o.port ?? listener.port}`,
    `dbname=${o.dbname ?? "shop"}`,
    `user=${o.user ?? ANA}`,
    `sslmode=${o.sslmode ?? "require"}`,
    "connect_timeout=10",
    o.extra ?? "",
  ].join(" ");
  const args = [conninfo, "-X", "-v", "VERBOSITY=verbose", "-v", "ON_ERROR_STOP=0"];
  for (const c of commands) args.push("-c", c);
  try {
    const { stdout, stderr } = await execFileAsync("psql", args, {
      env: { ...process.env, PGPASSWORD: o.password, PGAPPNAME: "dbcred-test" },
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** A node-postgres client through the listener (TLS unless sslmode=disable), connected. */
async function connectPg(o: ClientOptions) {
  const c = new pg.Client({
    host: o.host ?? "127.0.0.1",
    port: o.port ?? listener.port,
    database: o.dbname ?? "shop",
    user: o.user ?? ANA,
    password: o.password,
    ssl: o.sslmode === "disable" ? false : { rejectUnauthorized: false },
  });
  const errors: (Error & { code?: string })[] = [];
  c.on("error", (err) => errors.push(err));
  try {
    await c.connect();
  } catch (err) {
    await c.end().catch(() => {});
    throw err;
  }
  return Object.assign(c, { errors });
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function onStore<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(storeUrl, { max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end();
  }
}

const liveNativeSessions = () =>
  onStore(
    (sql) =>
      sql<
        { id: string }[]
      >`select id from sessions where channel = 'native' and state = 'live' and principal_label = ${ANA}`,
  );

/** The first authentication request the listener sends a start-up for `user` (plain text, from loopback). */
async function firstAuthenticationRequest(user: string): Promise<Buffer> {
  const socket = net.connect(listener.port, "127.0.0.1");
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.write(serialize.startup({ user, database: "shop" }));
    return await new Promise<Buffer>((resolve, reject) => {
      socket.once("data", resolve).once("error", reject);
    });
  } finally {
    socket.destroy();
  }
}

describe("connecting with a database credential (SCRAM-SHA-256)", () => {
  it("asks a person for SCRAM-SHA-256 and never for a cleartext password; a service account for its token in clear", async () => {
    const person = await firstAuthenticationRequest(ANA);
    expect(String.fromCharCode(person[0] ?? 0)).toBe("R");
    expect(person.readInt32BE(5)).toBe(10); // AuthenticationSASL
    expect(person.subarray(9).toString()).toBe("SCRAM-SHA-256\0\0");
    const unknownPerson = await firstAuthenticationRequest("nobody@example.com");
    expect(unknownPerson.readInt32BE(5)).toBe(10);
    const service = await firstAuthenticationRequest("report-bot");
    expect(service.readInt32BE(5)).toBe(3); // AuthenticationCleartextPassword
  });

  it("lets psql in with sslmode=require, reading with card numbers masked", async () => {
    const { password } = await credential();
    const out = await psql(["select name, card_number from customers"], { password });
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("Grace");
    expect(out.stdout).not.toContain(CARD);
  });

  it("lets psql in with sslmode=verify-ca against the listener's generated certificate, and not another", async () => {
    const { password } = await credential();
    const rootcert = path.join(dataDir, "pg-listener.crt");
    const out = await psql(["select 1 as one"], {
      password,
      sslmode: "verify-ca",
      extra: `sslrootcert=${rootcert}`,
    });
    expect(out.stdout).toMatch(/one\s*\n-+\n\s+1/);
    // another listener's generated certificate: a CA, but not the one this listener's certificate is
    const { loadListenerCertificate } = await import("./tls-certificate");
    const otherDir = mkdtempSync(path.join(tmpdir(), "portcullis-other-ca-"));
    await loadListenerCertificate({ dataDir: otherDir, certFile: undefined, keyFile: undefined });
    const otherCa = path.join(otherDir, "pg-listener.crt");
    const refused = await psql(["select 1"], {
      password,
      sslmode: "verify-ca",
      extra: `sslrootcert=${otherCa}`,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate verify failed/);
    rmSync(otherDir, { recursive: true, force: true });
  });

  it("lets node-postgres and postgres.js in with the same credential, both over TLS", async () => {
    const { password } = await credential();
    const c = await connectPg({ password });
    expect((await c.query("select current_setting('application_name') <> 'x' as ok")).rows[0]?.ok).toBe(true);
    await c.end();
    const sql = postgres({
      host: "127.0.0.1",
      port: listener.port,
      database: "shop",
      username: ANA,
      password,
      ssl: { rejectUnauthorized: false },
      max: 1,
      onnotice: () => {},
      fetch_types: false,
    });
    try {
      const rows = await sql.unsafe("select name from customers").simple();
      expect(rows[0]?.name).toBe("Grace");
    } finally {
      await sql.end();
    }
  });

  it("accepts any of a person's live credentials (they share a salt) and records each use in the audit log", async () => {
    const first = await credential();
    const second = await credential();
    for (const password of [first.password, second.password]) {
      const c = await connectPg({ password });
      await c.end();
    }
    const used = await onStore(
      (sql) =>
        sql<{ id: string }[]>`select details->>'credentialId' as id from audit_events
          where action = 'database_credential.use'`,
    );
    expect(used.map((u) => u.id)).toEqual(expect.arrayContaining([first.id, second.id]));
  });
});

/** Reads backend messages off a raw socket, one at a time. */
function backendReader(socket: net.Socket) {
  let buffer = Buffer.alloc(0);
  const waiting: (() => void)[] = [];
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (const w of waiting.splice(0)) w();
  });
  socket.on("close", () => {
    for (const w of waiting.splice(0)) w();
  });
  return async function next(): Promise<{ type: string; body: Buffer }> {
    for (;;) {
      if (buffer.length >= 5) {
        const length = buffer.readInt32BE(1);
        if (buffer.length >= 1 + length) {
          const message = { type: String.fromCharCode(buffer[0] ?? 0), body: buffer.subarray(5, 1 + length) };
          buffer = buffer.subarray(1 + length);
          return message;
        }
      }
      if (socket.destroyed) throw new Error("the listener closed the connection");
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
}

const frontend = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, "ascii");
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
};

/**
 * A SCRAM-SHA-256 exchange by hand on a raw socket (plain text from loopback), as libpq does it. `finalFor` may
 * replace the client's final message (to replay an old one). Returns the final message sent and what came back.
 */
async function scramByHand(user: string, password: string, finalFor?: (honest: string) => string) {
  // from an address of its own (loopback, so plain text is fine), so these failures count against neither the
  // other tests' address nor their user names
  const socket = net.connect({ port: listener.port, host: "127.0.0.1", localAddress: "127.0.0.2" });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const next = backendReader(socket);
  try {
    socket.write(serialize.startup({ user, database: "shop" }));
    const sasl = await next();
    expect(sasl.body.readInt32BE(0)).toBe(10);
    const clientFirstBare = "n=,r=fyko+d2lbbFgONRv9qkxdawL";
    const clientFirst = Buffer.from(`n,,${clientFirstBare}`);
    const length = Buffer.alloc(4);
    length.writeInt32BE(clientFirst.length);
    socket.write(frontend("p", Buffer.concat([Buffer.from("SCRAM-SHA-256\0"), length, clientFirst])));
    const cont = await next();
    const serverFirst = cont.body.subarray(4).toString();
    const attrs = Object.fromEntries(serverFirst.split(",").map((a) => [a[0], a.slice(2)]));
    const salted = pbkdf2Sync(password, Buffer.from(attrs.s ?? "", "base64"), Number(attrs.i), 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const signature = createHmac("sha256", storedKey)
      .update(`${clientFirstBare},${serverFirst},${withoutProof}`)
      .digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] ?? 0))).toString("base64");
    const honest = `${withoutProof},p=${proof}`;
    const final = finalFor ? finalFor(honest) : honest;
    socket.write(frontend("p", Buffer.from(final)));
    const reply = await next();
    return { final, reply: { type: reply.type, text: reply.body.toString("latin1") } };
  } finally {
    socket.destroy();
  }
}

describe("SCRAM on the wire, by hand", () => {
  const HANA = "hana@example.com";
  let hana: Principal;
  beforeAll(async () => {
    const { createUser, loadPrincipal } = await import("@/server/auth");
    const id = await createUser(actor, {
      email: HANA,
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    hana = (await loadPrincipal(id, "session")) as Principal;
  });

  it("completes a hand-made exchange, and refuses the same final message replayed in a new exchange", async () => {
    const { password } = await credential("shop", hana);
    const first = await scramByHand(HANA, password);
    expect(first.reply.type).toBe("R"); // AuthenticationSASLFinal, then AuthenticationOk
    expect(first.reply.text).toMatch(/v=/);
    const replay = await scramByHand(HANA, password, () => first.final);
    expect(replay.reply.type).toBe("E");
    expect(replay.reply.text).toMatch(/28P01/);
  });

  it("refuses a proof made with a wrong password, and a proof flipped by one bit, with 28P01", async () => {
    const { password } = await credential("shop", hana);
    const wrong = await scramByHand(HANA, `${password}x`);
    expect(wrong.reply.text).toMatch(/28P01/);
    const flipped = await scramByHand(HANA, password, (honest) => {
      const at = honest.indexOf(",p=") + 3;
      const proof = Buffer.from(honest.slice(at), "base64");
      proof[0] = (proof[0] ?? 0) ^ 1;
      return `${honest.slice(0, at)}${proof.toString("base64")}`;
    });
    expect(flipped.reply.type).toBe("E");
    expect(flipped.reply.text).toMatch(/28P01/);
  });
});

describe("refusals", () => {
  it("refuses a wrong credential, another person's, an expired and a revoked one with 28P01", async () => {
    const { createUser, loadPrincipal, revokeDatabaseCredential } = await import("@/server/auth");
    const good = await credential();
    await expect(connectPg({ password: `${good.password.slice(0, -2)}xx` })).rejects.toMatchObject({
      code: "28P01",
    });
    const benId = await createUser(actor, {
      email: "ben@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const ben = (await loadPrincipal(benId, "session")) as Principal;
    const bens = await credential("shop", ben);
    await expect(connectPg({ password: bens.password })).rejects.toMatchObject({ code: "28P01" });
    await expect(connectPg({ user: "ben@example.com", password: good.password })).rejects.toMatchObject({
      code: "28P01",
    });

    const expiring = await credential();
    await onStore(
      (sql) =>
        sql`update database_credentials set expires_at = now() - interval '1 second' where id = ${expiring.id}`,
    );
    await expect(connectPg({ password: expiring.password })).rejects.toMatchObject({ code: "28P01" });

    const revoked = await credential();
    await revokeDatabaseCredential(ana, revoked.id);
    const out = await psql(["select 1"], { password: revoked.password });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/FATAL: {2}password authentication failed for user "ana@example.com"/);
    // the good one still works
    const c = await connectPg({ password: good.password });
    await c.end();
  });

  it("refuses an API token as a person's password, and a credential offered as a cleartext password", async () => {
    const good = await credential();
    await expect(connectPg({ password: botToken })).rejects.toMatchObject({ code: "28P01" });
    await expect(connectPg({ user: "report-bot", password: good.password })).rejects.toMatchObject({
      code: "28P01",
    });
  });

  it("answers 3D000 for no such connection and 28000 for a credential of another connection", async () => {
    const { password } = await credential("shop");
    await expect(connectPg({ password, dbname: "nope" })).rejects.toMatchObject({ code: "3D000" });
    await expect(connectPg({ password, dbname: "crm" })).rejects.toMatchObject({
      code: "28000",
      message: expect.stringMatching(/another connection/),
    });
  });

  it("answers 28000 once the person may no longer use the connection", async () => {
    const { createUser, loadPrincipal, listGroups, removeGroupMember } = await import("@/server/auth");
    const id = await createUser(actor, {
      email: "cy@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const cy = (await loadPrincipal(id, "session")) as Principal;
    const { password } = await credential("shop", cy);
    const analysts = (await listGroups()).find((g) => g.name === "analysts");
    await removeGroupMember(actor, analysts?.id ?? "", id);
    await expect(connectPg({ user: "cy@example.com", password })).rejects.toMatchObject({ code: "28000" });
  });

  it("only hands credentials to people, for connections they may use, up to the session maximum", async () => {
    const { issueDatabaseCredential } = await import("./connect");
    const { loadPrincipal, createServiceAccount } = await import("@/server/auth");
    const bot = await createServiceAccount(actor, { name: "cred-bot", groups: ["analysts"] });
    const botPrincipal = (await loadPrincipal(bot.id, "token")) as Principal;
    await expect(
      issueDatabaseCredential(botPrincipal, { connection: "shop", validForSeconds: 600 }),
    ).rejects.toMatchObject({
      code: "bad_request",
    });
    await expect(
      issueDatabaseCredential(ana, { connection: "nope", validForSeconds: 600 }),
    ).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(
      issueDatabaseCredential(ana, { connection: "shop", validForSeconds: 9 * 3600 }),
    ).rejects.toThrow(/at most 28800/);
  });

  it("asks for SCRAM over plain text too (allowed there), but never takes an API token in clear from another machine", async () => {
    const { password } = await credential();
    const plain = await connectPg({
      password,
      host: "192.0.2.2",
      port: idleListener.port,
      sslmode: "disable",
    });
    await plain.end();
    await expect(
      connectPg({
        user: "report-bot",
        password: botToken,
        host: "192.0.2.2",
        port: idleListener.port,
        sslmode: "disable",
      }),
    ).rejects.toMatchObject({ code: "28000", message: expect.stringMatching(/only over TLS/) });
  });
});

describe("ending live sessions", () => {
  it("ends a live session at once when its credential is revoked, and only that one", async () => {
    const { revokeDatabaseCredential } = await import("@/server/auth");
    const revoked = await credential();
    const kept = await credential();
    const doomed = await connectPg({ password: revoked.password });
    const other = await connectPg({ password: kept.password });
    try {
      await doomed.query("begin");
      await revokeDatabaseCredential(ana, revoked.id);
      await waitFor(() => doomed.errors.length > 0, "the revoked client's error");
      expect(doomed.errors[0]).toMatchObject({
        code: "57P01",
        message: expect.stringMatching(/credential was revoked/),
      });
      expect((await other.query("select 1 as n")).rows[0]?.n).toBe(1);
      await expect(connectPg({ password: revoked.password })).rejects.toMatchObject({ code: "28P01" });
    } finally {
      await doomed.end().catch(() => {});
      await other.end().catch(() => {});
    }
  });

  it("ends a session killed from the console at once: the client is told who, the session ends, it is audited", async () => {
    const { endNativeSession } = await import("./end-session");
    const { password } = await credential();
    const before = new Set((await liveNativeSessions()).map((s) => s.id));
    const c = await connectPg({ password });
    try {
      const [session] = (await liveNativeSessions()).filter((s) => !before.has(s.id));
      if (!session) throw new Error("no live native session recorded");
      await endNativeSession({ id: null, label: "the lead" }, session.id);
      await waitFor(() => c.errors.length > 0, "the killed client's error");
      expect(c.errors[0]).toMatchObject({
        code: "57P01",
        message: expect.stringMatching(/ended by the lead/),
      });
      await waitFor(
        async () => !(await liveNativeSessions()).some((s) => s.id === session.id),
        "the ended session",
      );
      const audited = await onStore(
        (sql) =>
          sql`select 1 from audit_events where action = 'native_session.end' and details->>'sessionId' = ${session.id}`,
      );
      expect(audited).toHaveLength(1);
      await expect(endNativeSession({ id: null, label: "the lead" }, session.id)).rejects.toMatchObject({
        code: "not_found",
      });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("ends a session when another replica asks (NOTIFY on the store), and ignores payloads that are not ours", async () => {
    const { NATIVE_END_CHANNEL } = await import("@/server/auth");
    const { notifyOnStore } = await import("@/server/store-listen");
    const { password } = await credential();
    const before = new Set((await liveNativeSessions()).map((s) => s.id));
    const c = await connectPg({ password });
    try {
      const [session] = (await liveNativeSessions()).filter((s) => !before.has(s.id));
      if (!session) throw new Error("no live native session recorded");
      for (const junk of ["not json", "{}", JSON.stringify({ sessionId: session.id }), "[1]"]) {
        await notifyOnStore(NATIVE_END_CHANNEL, junk);
      }
      expect((await c.query("select 1 as n")).rows[0]?.n).toBe(1);
      // only the store's NOTIFY: this process's own handlers are not called
      await notifyOnStore(
        NATIVE_END_CHANNEL,
        JSON.stringify({ sessionId: session.id, reason: "ended by the other replica" }),
      );
      await waitFor(() => c.errors.length > 0, "the client's error");
      expect(c.errors[0]).toMatchObject({ code: "57P01", message: expect.stringMatching(/other replica/) });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("refuses to end what is not a live native session", async () => {
    const { endNativeSession } = await import("./end-session");
    await expect(endNativeSession(actor, "no-such-session")).rejects.toMatchObject({ code: "not_found" });
  });

  it("ends an idle client's session when the person is disabled, without waiting for a statement", async () => {
    const { createUser, loadPrincipal, updateUser } = await import("@/server/auth");
    const id = await createUser(actor, {
      email: "dee@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const dee = (await loadPrincipal(id, "session")) as Principal;
    const { password } = await credential("shop", dee);
    const c = await connectPg({ user: "dee@example.com", password });
    try {
      await updateUser(actor, id, { disabled: true });
      await waitFor(() => c.errors.length > 0, "the disabled person's client error");
      expect(c.errors[0]).toMatchObject({ code: "28000" });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("ends an idle client's session when the person loses the connection's group", async () => {
    const { createUser, loadPrincipal, listGroups, removeGroupMember } = await import("@/server/auth");
    const id = await createUser(actor, {
      email: "eve@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const eve = (await loadPrincipal(id, "session")) as Principal;
    const { password } = await credential("shop", eve);
    const c = await connectPg({ user: "eve@example.com", password });
    try {
      const analysts = (await listGroups()).find((g) => g.name === "analysts");
      await removeGroupMember(actor, analysts?.id ?? "", id);
      await waitFor(() => c.errors.length > 0, "the removed person's client error");
      expect(c.errors[0]).toMatchObject({
        code: "28000",
        message: expect.stringMatching(/may no longer use/),
      });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("ends a live session when its credential expires, without waiting for a statement", async () => {
    const expiring = await credential();
    const c = await connectPg({ password: expiring.password });
    try {
      expect((await c.query("select 1 as n")).rows[0]?.n).toBe(1);
      await onStore(
        (sql) =>
          sql`update database_credentials set expires_at = now() - interval '1 second' where id = ${expiring.id}`,
      );
      await waitFor(() => c.errors.length > 0, "the expired credential's client error");
      expect(c.errors[0]).toMatchObject({ code: "28000", message: expect.stringMatching(/expired/) });
    } finally {
      await c.end().catch(() => {});
    }
  });

  it("closes an idle client after the idle timeout (57P05), and one idle in a transaction (25P03)", async () => {
    const { password } = await credential();
    const idle = await connectPg({ password, port: idleListener.port });
    const inTransaction = await connectPg({ password, port: idleListener.port });
    try {
      await inTransaction.query("begin");
      await waitFor(
        () => idle.errors.length > 0 && inTransaction.errors.length > 0,
        "the idle clients' errors",
      );
      expect(idle.errors[0]).toMatchObject({ code: "57P05" });
      expect(inTransaction.errors[0]).toMatchObject({ code: "25P03" });
    } finally {
      await idle.end().catch(() => {});
      await inTransaction.end().catch(() => {});
    }
  });

  it("keeps a client that keeps talking past the idle timeout", async () => {
    const { password } = await credential();
    const c = await connectPg({ password, port: idleListener.port });
    try {
      for (let i = 0; i < 10; i++) {
        await c.query("select 1");
        await new Promise((r) => setTimeout(r, 150));
      }
      expect(c.errors).toEqual([]);
    } finally {
      await c.end().catch(() => {});
    }
  });
});

describe("rate limiting", () => {
  it("limits failed SCRAM proofs per user name: a right credential is then refused too, others are not", async () => {
    const { createUser, loadPrincipal } = await import("@/server/auth");
    const id = await createUser(actor, {
      email: "fay@example.com",
      password: "correct horse battery staple",
      groups: ["analysts"],
    });
    const fay = (await loadPrincipal(id, "session")) as Principal;
    const { password } = await credential("shop", fay);
    // Failures until refused for too many (the limit is 10 a minute, refilling as time passes: a slow machine may
    // need a few more tries to get there); then even the right credential is refused.
    let refusal: { code?: string; message?: string } = {};
    for (let i = 0; i < 30 && refusal.code !== "28000"; i++) {
      refusal = await connectPg({
        user: "fay@example.com",
        password: `pcd_guess${i}`,
        host: "192.0.2.2",
      }).then(
        () => ({}),
        (err: { code?: string; message?: string }) => err,
      );
      if (refusal.code !== "28000") expect(refusal.code).toBe("28P01");
    }
    expect(refusal.message).toMatch(/too many failed passwords/);
    await expect(connectPg({ user: "fay@example.com", password })).rejects.toMatchObject({
      code: "28000",
      message: expect.stringMatching(/too many failed passwords/),
    });
    // that address, for another person with a right credential
    const anas = await credential();
    await expect(connectPg({ password: anas.password, host: "192.0.2.2" })).rejects.toMatchObject({
      code: "28000",
    });
    // others are not locked out
    const c = await connectPg({ password: anas.password });
    await c.end();
  });
});

describe("secrets", () => {
  it("never writes a credential or a card number to the log, the data directories or the store", async () => {
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "));
      }),
    );
    const tried = "pcd_a-guess-that-must-not-be-logged";
    try {
      const { password } = await credential();
      await psql(["select card_number from customers"], { password });
      await psql(["select 1"], { password: tried });
      const { revokeDatabaseCredential } = await import("@/server/auth");
      const latest = await credential();
      const c = await connectPg({ password: latest.password });
      await revokeDatabaseCredential(ana, latest.id);
      await waitFor(() => c.errors.length > 0, "the revoked client's error");
      await c.end().catch(() => {});
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    await onStore((sql) => sql`checkpoint`);
    const filesOf = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile())
        .map((f) => readFileSync(path.join(f.parentPath, f.name)).toString("latin1"));
    // the PostgreSQL server's files hold the store (and the target, whose table has the card: not scanned for it)
    for (const text of filesOf(pgServer.dataDir)) {
      for (const secret of [...issued, tried]) expect(text).not.toContain(secret);
    }
    const files = filesOf(dataDir);
    const store = await onStore(async (sql) => {
      const rows = await sql`select coalesce(string_agg(t::text, E'\\n'), '') as all from (
        select row_to_json(a)::text as t from audit_events a
        union all select row_to_json(s)::text from sessions s
        union all select row_to_json(e)::text from session_events e
        union all select row_to_json(d)::text from database_credentials d) x`;
      return String(rows[0]?.all ?? "");
    });
    expect(issued.length).toBeGreaterThan(10);
    for (const text of [...logged, ...files, store]) {
      for (const secret of [...issued, tried]) expect(text).not.toContain(secret);
      expect(text).not.toContain(CARD);
    }
  });
});
