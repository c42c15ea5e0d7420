/**
 * The embedded store's local socket (DATA_DIR/.store.sock), the admin command line's way into the running
 * console's database. PGlite is one PostgreSQL session: clients whose messages interleave would share unnamed
 * statements, portals and transactions. So a client takes a turn from its first message until the store is
 * idle again (ReadyForQuery with status I: its query, batch or transaction has ended), and the others wait
 * for theirs instead of being reset, as pglite-socket does to a second client. A client that goes away inside
 * its turn has its batch ended and its transaction rolled back. Past MAX_CLIENTS, a client gets a PostgreSQL
 * error saying the console is busy (the command line tries again).
 * Not responsible for who may connect: the socket lives in DATA_DIR (0700) and is created under umask 077.
 */
import "server-only";
import { rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";

/** What the socket needs of PGlite (the store-cache wrapper passes through). */
export interface ProtocolDb {
  runExclusive<R>(fn: () => Promise<R>): Promise<R>;
  execProtocolRawStream(
    message: Uint8Array,
    options: { onRawData: (data: Uint8Array) => void },
  ): Promise<void>;
  isInTransaction(): boolean;
  exec(sql: string): Promise<unknown>;
}

const MAX_CLIENTS = 32;
const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);

/** A FATAL ErrorResponse (SQLSTATE 53300, too_many_connections) a client library shows as its error. */
function busyError(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C53300\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

type MessageKind = "startup" | "ssl" | "cancel" | "terminate" | "typed";

/** The first complete protocol message in `buffer`; `started` once the startup packet went. */
function nextMessage(buffer: Buffer, started: boolean): { message: Buffer; kind: MessageKind } | undefined {
  if (!started) {
    if (buffer.length < 8) return undefined;
    const length = buffer.readInt32BE(0);
    if (buffer.length < length) return undefined;
    const code = buffer.readInt32BE(4);
    const kind = code === SSL_REQUEST ? "ssl" : code === CANCEL_REQUEST ? "cancel" : "startup";
    return { message: buffer.subarray(0, length), kind };
  }
  if (buffer.length < 5) return undefined;
  const length = 1 + buffer.readInt32BE(1);
  if (buffer.length < length) return undefined;
  return { message: buffer.subarray(0, length), kind: buffer[0] === 0x58 ? "terminate" : "typed" };
}

/** Reads backend messages as they stream out and remembers the status of the last ReadyForQuery. */
class ReadyTracker {
  private pending = Buffer.alloc(0);
  status: string | undefined;

  see(data: Uint8Array) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : Buffer.from(data);
    while (this.pending.length >= 5) {
      const length = 1 + this.pending.readInt32BE(1);
      if (this.pending.length < length) break;
      if (this.pending[0] === 0x5a /* Z */) this.status = String.fromCharCode(this.pending[5] ?? 0);
      this.pending = this.pending.subarray(length);
    }
  }
}

/** Whose turn it is on the one session; the others wait in order. */
class Turns {
  private holder: object | undefined;
  private waiting: (() => void)[] = [];

  isHeldBy(client: object) {
    return this.holder === client;
  }

  async take(client: object) {
    while (this.holder !== undefined && this.holder !== client) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.holder = client;
  }

  give(client: object) {
    if (this.holder !== client) return;
    this.holder = undefined;
    this.waiting.shift()?.();
  }
}

/** Serves one client until it goes, taking a turn for each query, batch or transaction it runs. */
function serveClient(db: ProtocolDb, turns: Turns, socket: Socket): void {
  const client = {};
  let buffer = Buffer.alloc(0);
  let started = false;
  let working = Promise.resolve();
  const run = async (message: Uint8Array) => {
    const ready = new ReadyTracker();
    await db.runExclusive(() =>
      db.execProtocolRawStream(message, {
        onRawData: (data) => {
          ready.see(data);
          if (!socket.destroyed) socket.write(data);
        },
      }),
    );
    return ready.status;
  };
  const drain = async () => {
    for (;;) {
      const next = nextMessage(buffer, started);
      if (!next) return;
      buffer = buffer.subarray(next.message.length);
      if (next.kind === "ssl") {
        socket.write("N");
        continue;
      }
      if (next.kind === "cancel" || next.kind === "terminate") {
        socket.end();
        return;
      }
      if (next.kind === "startup") started = true;
      await turns.take(client);
      if (socket.destroyed) {
        turns.give(client);
        return;
      }
      // Idle again (I): the query, the batch up to Sync, or the transaction is over; the next client may go.
      if ((await run(new Uint8Array(next.message))) === "I") turns.give(client);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    working = working.then(drain).catch(() => {
      socket.destroy();
    });
  });
  socket.on("close", () => {
    void working
      .then(async () => {
        if (!turns.isHeldBy(client)) return;
        // Gone inside its turn (killed mid-command): end its batch and roll back its transaction, or the
        // next client, and the console, would run inside them.
        await run(SYNC);
        if (db.isInTransaction()) await db.exec("ROLLBACK");
      })
      .catch(() => {})
      .finally(() => turns.give(client));
  });
  socket.resume();
}

export async function serveStoreSocket(
  db: ProtocolDb,
  socketPath: string,
): Promise<{ stop(): Promise<void> }> {
  const turns = new Turns();
  const sockets = new Set<Socket>();
  let clients = 0;
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on("error", () => {});
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (clients >= MAX_CLIENTS) {
      const message = `the console is busy: ${clients} admin connections are open; try again`;
      // Read before the client goes (a client still writing its start-up would see EPIPE instead).
      socket.resume();
      socket.end(busyError(message));
      socket.setTimeout(5000, () => socket.destroy());
      return;
    }
    clients++;
    socket.once("close", () => clients--);
    serveClient(db, turns, socket);
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          rmSync(socketPath, { force: true });
          resolve();
        });
      }),
  };
}
