/**
 * The embedded store's local socket (DATA_DIR/.store.sock), the admin command line's way into the running
 * console's database. PGlite is one PostgreSQL session: clients whose messages interleave would share unnamed
 * statements, portals and transactions. So a client takes a turn from its first message until the store is
 * idle again (ReadyForQuery with status I: its query, batch or transaction has ended), and the others wait
 * for theirs instead of being reset, as pglite-socket does to a second client. The console's own queries wait
 * too: a turn holds PGlite's query lock from its first message to its end, so nothing of the console runs
 * between a client's Parse and its Bind, or inside its transaction. A client that goes away inside its turn has
 * its batch ended and its transaction rolled back; one that holds a turn and sends nothing for TURN_IDLE_MS is
 * disconnected (the same), so a stalled command line cannot stop the console. Past MAX_CLIENTS, a client gets a PostgreSQL
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
}

const MAX_CLIENTS = 32;
/** How long a client may hold its turn without sending anything. */
const TURN_IDLE_MS = 10_000;
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

/** A simple Query message (`Q`), for what the socket itself must run inside a turn. */
function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const head = Buffer.alloc(5);
  head.write("Q", 0);
  head.writeInt32BE(text.length + 4, 1);
  return new Uint8Array(Buffer.concat([head, text]));
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
  // The turn's hold on PGlite's query lock: entered when the turn is taken, left when it is given back.
  let leave: (() => void) | undefined;
  let held: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const enterTurn = async () => {
    await turns.take(client);
    await new Promise<void>((entered) => {
      held = db.runExclusive(
        () =>
          new Promise<void>((release) => {
            leave = release;
            entered();
          }),
      );
    });
  };
  const leaveTurn = async () => {
    clearTimeout(idleTimer);
    leave?.();
    leave = undefined;
    await held;
    held = undefined;
    turns.give(client);
  };
  const run = async (message: Uint8Array) => {
    const ready = new ReadyTracker();
    await db.execProtocolRawStream(message, {
      onRawData: (data) => {
        ready.see(data);
        if (!socket.destroyed) socket.write(data);
      },
    });
    return ready.status;
  };
  const drain = async () => {
    clearTimeout(idleTimer);
    for (;;) {
      const next = nextMessage(buffer, started);
      if (!next) break;
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
      if (!turns.isHeldBy(client)) await enterTurn();
      if (socket.destroyed) return;
      // Idle again (I): the query, the batch up to Sync, or the transaction is over; the next client may go.
      if ((await run(new Uint8Array(next.message))) === "I") await leaveTurn();
    }
    // Holding the turn and waiting for more: not for ever.
    if (turns.isHeldBy(client)) idleTimer = setTimeout(() => socket.destroy(), TURN_IDLE_MS);
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    working = working.then(drain).catch(() => {
      socket.destroy();
    });
  });
  socket.on("close", () => {
    clearTimeout(idleTimer);
    void working
      .then(async () => {
        if (!turns.isHeldBy(client)) return;
        // Gone inside its turn (killed mid-command): end its batch and roll back its transaction, still inside
        // the turn, or the next client, and the console, would run inside them.
        await run(SYNC);
        if (db.isInTransaction()) await run(queryMessage("ROLLBACK"));
      })
      .catch(() => {})
      .finally(() => {
        if (turns.isHeldBy(client)) void leaveTurn();
      });
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
