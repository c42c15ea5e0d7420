/**
 * The embedded store's local socket (DATA_DIR/.store.sock), the admin command line's way into the running
 * console's database. PGlite is one PostgreSQL session: two clients whose messages interleave would share
 * unnamed statements, portals and transactions, so clients are served one at a time, in order of arrival, and
 * the others wait (their socket paused) instead of being reset. A client left inside a transaction is rolled
 * back when it goes. Past MAX_WAITING a client gets a PostgreSQL error saying the console is busy.
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

const MAX_WAITING = 32;
const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

/** A FATAL ErrorResponse (SQLSTATE 53300, too_many_connections) a client library shows as its error. */
function busyError(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C53300\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/** Splits complete protocol messages off the front of `buffer`; `started` once the startup packet went. */
function nextMessage(
  buffer: Buffer,
  started: boolean,
): { message: Buffer; kind: "startup" | "ssl" | "cancel" | "typed" } | undefined {
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
  return { message: buffer.subarray(0, length), kind: "typed" };
}

/** Serves one client until it goes; resolves then (the next waiting client is served after). */
function serveClient(db: ProtocolDb, socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    let ownsTransaction = false;
    let working = Promise.resolve();
    let isDone = false;
    const finish = () => {
      if (isDone) return;
      isDone = true;
      void working
        .then(async () => {
          // Left inside a transaction (killed mid-command): roll it back, or the console would run in it.
          if (ownsTransaction && db.isInTransaction()) await db.exec("ROLLBACK");
        })
        .catch(() => {})
        .finally(resolve);
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
        if (next.kind === "cancel") {
          socket.end();
          return;
        }
        if (next.kind === "startup") started = true;
        if (next.kind === "typed" && next.message[0] === 0x58 /* X: Terminate */) {
          socket.end();
          return;
        }
        await db.runExclusive(() =>
          db.execProtocolRawStream(new Uint8Array(next.message), {
            onRawData: (data) => {
              if (!socket.destroyed) socket.write(data);
            },
          }),
        );
        ownsTransaction = db.isInTransaction();
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      working = working.then(drain).catch(() => {
        socket.destroy();
      });
    });
    socket.on("error", () => {});
    socket.on("close", finish);
    socket.resume();
  });
}

export async function serveStoreSocket(
  db: ProtocolDb,
  socketPath: string,
): Promise<{ stop(): Promise<void> }> {
  const waiting: Socket[] = [];
  let serving: Socket | undefined;
  const sockets = new Set<Socket>();
  const serveNext = () => {
    if (serving) return;
    serving = waiting.shift();
    if (!serving) return;
    void serveClient(db, serving).finally(() => {
      serving = undefined;
      serveNext();
    });
  };
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      const at = waiting.indexOf(socket);
      if (at >= 0) waiting.splice(at, 1);
    });
    socket.on("error", () => {});
    if (waiting.length >= MAX_WAITING) {
      socket.end(busyError(`the console is busy: ${waiting.length} admin commands are waiting; try again`));
      return;
    }
    waiting.push(socket);
    serveNext();
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
