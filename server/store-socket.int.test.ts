// The embedded store's socket on a real PGlite, reached by real postgres.js clients (as the admin command line
// reaches it): clients at once are served in turn with their own statements and transactions intact, one that
// dies inside a transaction leaves nothing behind, and past the connection limit a client hears that it is busy.
// Both where PGlite runs on the console's main thread and where it runs in the store's worker thread
// (STORE_THREAD=worker: the socket drives it through the main thread's stand-in).
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedDb, openStore } from "@/db/store";
import { serveStoreSocket } from "./store-socket";

describe.each([
  ["on the main thread", "main"],
  ["in a worker thread", "worker"],
] as const)("the store socket, PGlite %s", (_, thread) => {
  let dir: string;
  let socketPath: string;
  let db: EmbeddedDb;
  let socket: { stop(): Promise<void> };

  const client = () =>
    postgres({ path: socketPath, max: 1, username: "postgres", database: "postgres", onnotice: () => {} });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "portcullis-store-socket-"));
    socketPath = path.join(dir, ".store.sock");
    const store = thread === "worker" ? await openStore({ dataDir: dir, thread }) : undefined;
    db = store?.pglite ?? (await PGlite.create());
    await db.exec("create table notes (id serial primary key, who text not null)");
    socket = await serveStoreSocket(db, socketPath);
  }, 180_000);

  afterAll(async () => {
    await socket?.stop();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves eight clients at once, each with its own parameters and results", async () => {
    const clients = Array.from({ length: 8 }, client);
    try {
      const answers = await Promise.all(
        clients.map(async (sql, i) => {
          const seen: number[] = [];
          for (let round = 0; round < 5; round++) {
            const [row] = await sql`select ${i * 100 + round}::int as n, ${`client ${i}`}::text as who`;
            seen.push(Number(row?.n));
            expect(row?.who).toBe(`client ${i}`);
          }
          return seen;
        }),
      );
      expect(answers).toEqual(clients.map((_, i) => [0, 1, 2, 3, 4].map((r) => i * 100 + r)));
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
    }
  });

  it("keeps the console's own queries out of a client's turn: its transaction and its unnamed statement", async () => {
    const sql = client();
    try {
      // The client opens a transaction; the console writes meanwhile (its own query, with a parameter of
      // another type on the unnamed statement). Until the client's turn ends, the console's write waits.
      let consoleDone = false;
      await sql.begin(async (tx) => {
        await tx`insert into notes (who) values ('in the client transaction')`;
        const consoleWrite = db
          .query("insert into notes (who) select 'console' where $1::boolean", [true])
          .then(() => {
            consoleDone = true;
          });
        await new Promise((r) => setTimeout(r, 200));
        expect(consoleDone).toBe(false);
        const [row] = await tx`select ${"typed as text"}::text as v`;
        expect(row?.v).toBe("typed as text");
        await tx`select pg_catalog.set_config('portcullis.test', 'x', true)`;
        void consoleWrite;
      });
      // Rolled back or committed, the console's write is its own: it ran after the client's turn.
      await sql`select 1`;
      const rows = await db.query<{ who: string }>("select who from notes where who = 'console'");
      expect(rows.rows).toHaveLength(1);
    } finally {
      await sql.end();
      await db.exec("delete from notes");
    }
  });

  it("keeps a client's transaction its own while another waits for its turn", async () => {
    const first = client();
    const second = client();
    try {
      let secondDone = false;
      let secondRan: Promise<unknown> = Promise.resolve();
      await first.begin(async (tx) => {
        await tx`insert into notes (who) values ('first')`;
        // The second client connects and writes while the first is inside its transaction: it must wait.
        secondRan = second`insert into notes (who) values ('second')`.then(() => {
          secondDone = true;
        });
        await tx`select pg_sleep(0.2)`;
        expect(secondDone).toBe(false);
        await tx`insert into notes (who) values ('first again')`;
      });
      await secondRan;
      const rows = await first`select who from notes order by id`;
      expect(rows.map((r) => r.who)).toEqual(["first", "first again", "second"]);
    } finally {
      await first.end();
      await second.end();
    }
  });

  it("rolls back the transaction of a client that went away inside it, and serves the next", async () => {
    const doomed = client();
    const next = client();
    try {
      await doomed`begin`;
      await doomed`insert into notes (who) values ('doomed')`;
      await doomed.end({ timeout: 0 });
      const rows = await next`select count(*)::int as n from notes where who = 'doomed'`;
      expect(rows[0]?.n).toBe(0);
      expect(db.isInTransaction()).toBe(false);
    } finally {
      await next.end();
    }
  });

  it("tells a client the console is busy once 32 connections are open", async () => {
    const holder = client();
    const waiting: Socket[] = [];
    const late = client();
    try {
      await holder`begin`;
      // 31 more connections (connected, nothing sent yet): 32 with the holder.
      for (let i = 0; i < 31; i++) {
        const s = connect(socketPath);
        s.on("error", () => {});
        await new Promise((resolve) => s.once("connect", resolve));
        waiting.push(s);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await late`select 1`.then(
        () => undefined,
        (err: { code?: string; message?: string }) => err,
      );
      expect(refused?.code).toBe("53300");
      expect(refused?.message).toContain("the console is busy");
    } finally {
      for (const s of waiting) s.destroy();
      await holder`rollback`.catch(() => {});
      await holder.end();
      await late.end();
    }
  });
});
