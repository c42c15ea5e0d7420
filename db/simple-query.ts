/**
 * The recorder's statements on the embedded PGlite with less around them than PGlite's `exec` or `query`: a prebuilt
 * protocol message goes to the engine through `execProtocolRawSync`, and the reply's bytes are read here into each
 * statement's rows (values parsed by PGlite's own type parsers, so rows are the ones `exec` returns). Two messages:
 * - `boundQueryOn` (the recorder's appends, db/prepared.ts): statements already PREPAREd run by name with Bind,
 *   Describe and Execute each and one Sync at the end. Values travel as length-prefixed text parameters, so the
 *   engine never handles them as SQL literals: on a 256 KiB terminal output the literal cost about 40% of the
 *   engine's work (decision 0027, session 11). Every Execute before the Sync runs in one implicit transaction
 *   (PostgreSQL commits at the Sync, or rolls all of them back on the first error), which the recorder's group
 *   commit relies on.
 * - `simpleQueryOn`: one simple-protocol Query message (several statements, one implicit transaction); the
 *   recorder's path before session 11, kept for statements that are not prepared.
 * `exec` sends the query and then a Sync of its own (a second pass through the engine), builds result objects with
 * their field lists, and checks for blobs; on a one-row append that wrapper cost about as much as the engine's
 * work (bench/store.ts). Both of PGlite's locks are held as `exec` holds them (its transaction lock, then its query
 * lock), so the statements never run inside another caller's transaction or an admin socket's turn. An
 * ErrorResponse is thrown as an error carrying PostgreSQL's fields (code, detail, constraint...), as PGlite's
 * DatabaseError does.
 * Runs on whichever thread holds the PGlite (the console's main thread, or the store's worker thread).
 * Not responsible for what the statements are (db/prepared.ts) nor for the store's durability (PGlite commits to
 * the operating system's page cache: decision 0027, session 10).
 */
import "server-only";
import type { PGlite } from "@electric-sql/pglite";

export interface SimpleResult {
  rows: Record<string, unknown>[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A value bound to a prepared statement's parameter (sent as text; null as SQL NULL). */
export type BoundValue = string | number | null;

/** A statement PREPAREd in the session, run by name with these values. */
export interface BoundCall {
  name: string;
  values: readonly BoundValue[];
}

/** The simple-protocol Query message for `sql`. */
export function queryMessage(sql: string): Uint8Array {
  if (sql.includes("\u0000")) throw new Error("a query holds a NUL character");
  const text = encoder.encode(sql);
  const message = new Uint8Array(text.length + 6);
  message[0] = 0x51; // 'Q'
  new DataView(message.buffer).setInt32(1, text.length + 5);
  message.set(text, 5);
  return message; // ends with the terminating 0 already in place
}

/**
 * Bind (unnamed portal, text parameters, text results), Describe (the portal: its row description) and Execute
 * (every row) for each call, then one Sync: the calls run in order in one implicit transaction. A value holding NUL
 * or a number that is not finite is refused before anything is built (a text parameter ends at NUL).
 */
export function boundMessage(calls: readonly BoundCall[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 5; // Sync
  const describeExecute = Uint8Array.from([0x44, 0, 0, 0, 6, 0x50, 0, 0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]);
  for (const { name, values } of calls) {
    if (name.includes("\u0000")) throw new Error("a prepared statement's name holds a NUL character");
    const encoded = values.map((value) => {
      if (value === null) return null;
      if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new Error("a prepared statement argument is not a finite number");
        return encoder.encode(String(value));
      }
      if (value.includes("\u0000")) throw new Error("a prepared statement argument holds a NUL character");
      return encoder.encode(value);
    });
    const statement = encoder.encode(name);
    // 'B', length, portal "" (one NUL), statement name and NUL, 0 format codes (all text), the count, each value
    // (its length, or -1 for NULL, then its bytes), 0 result format codes (all text)
    const length =
      4 + 1 + statement.length + 1 + 2 + 2 + encoded.reduce((n, v) => n + 4 + (v?.length ?? 0), 0) + 2;
    const bind = new Uint8Array(1 + length);
    const view = new DataView(bind.buffer);
    bind[0] = 0x42; // 'B'
    view.setInt32(1, length);
    let at = 6; // after the portal's empty name
    bind.set(statement, at);
    at += statement.length + 1;
    view.setInt16(at, 0);
    view.setInt16(at + 2, encoded.length);
    at += 4;
    for (const value of encoded) {
      view.setInt32(at, value ? value.length : -1);
      at += 4;
      if (value) {
        bind.set(value, at);
        at += value.length;
      }
    }
    view.setInt16(at, 0);
    parts.push(bind, describeExecute);
    size += bind.length + describeExecute.length;
  }
  const message = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    message.set(part, at);
    at += part.length;
  }
  message.set([0x53, 0, 0, 0, 4], at); // Sync
  return message;
}

/** PostgreSQL's ErrorResponse field codes, under the names PGlite's DatabaseError uses. */
const ERROR_FIELDS: Record<string, string> = {
  S: "severity",
  C: "code",
  D: "detail",
  H: "hint",
  P: "position",
  p: "internalPosition",
  q: "internalQuery",
  W: "where",
  s: "schema",
  t: "table",
  c: "column",
  d: "dataType",
  n: "constraint",
  F: "file",
  L: "line",
  R: "routine",
};

type ParseType = (value: string, oid: number) => unknown;

/** Reads a backend reply to one Query message into each statement's rows; throws its ErrorResponse. */
export function readReply(reply: Uint8Array, parseType: ParseType): SimpleResult[] {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const results: SimpleResult[] = [];
  let fields: { name: string; oid: number }[] = [];
  let rows: Record<string, unknown>[] = [];
  let error: Error | undefined;
  let ready = false;
  const cstring = (from: number, end: number): [string, number] => {
    let zero = from;
    while (zero < end && reply[zero] !== 0) zero++;
    if (zero >= end) throw new Error("the store's reply holds an unterminated string");
    return [decoder.decode(reply.subarray(from, zero)), zero + 1];
  };
  let at = 0;
  while (at < reply.length) {
    if (at + 5 > reply.length) throw new Error("the store's reply ends inside a message header");
    const type = reply[at] as number;
    const end = at + 1 + view.getInt32(at + 1);
    if (end > reply.length || end < at + 5) throw new Error("the store's reply ends inside a message");
    let p = at + 5;
    switch (type) {
      case 0x54: {
        // RowDescription
        const count = view.getInt16(p);
        p += 2;
        fields = [];
        for (let i = 0; i < count; i++) {
          const [name, next] = cstring(p, end);
          fields.push({ name, oid: view.getInt32(next + 6) });
          p = next + 18;
        }
        rows = [];
        break;
      }
      case 0x44: {
        // DataRow
        const count = view.getInt16(p);
        p += 2;
        const row: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const length = view.getInt32(p);
          p += 4;
          const field = fields[i];
          if (!field) throw new Error("the store's reply has a row wider than its description");
          if (length < 0) row[field.name] = null;
          else {
            row[field.name] = parseType(decoder.decode(reply.subarray(p, p + length)), field.oid);
            p += length;
          }
        }
        rows.push(row);
        break;
      }
      case 0x43: // CommandComplete
      case 0x49: // EmptyQueryResponse
        results.push({ rows });
        rows = [];
        fields = [];
        break;
      case 0x45: {
        // ErrorResponse: the first one is kept (nothing of the message was committed)
        const found: Record<string, string> = {};
        while (p < end && reply[p] !== 0) {
          const code = String.fromCharCode(reply[p] as number);
          const [value, next] = cstring(p + 1, end);
          found[code] = value;
          p = next;
        }
        if (!error) {
          error = new Error(found.M ?? "the store refused the query");
          error.name = "DatabaseError";
          for (const [code, value] of Object.entries(found)) {
            const name = ERROR_FIELDS[code];
            if (name) Object.assign(error, { [name]: value });
          }
        }
        break;
      }
      case 0x5a: // ReadyForQuery
        ready = true;
        break;
      default: // notices, parameter status, notifications: not part of the rows
        break;
    }
    at = end;
  }
  if (error) throw error;
  if (!ready) throw new Error("the store's reply ended before it was ready for the next query");
  return results;
}

let parseType: ParseType | undefined;

/** Runs `sql` (one or more statements, one implicit transaction) on `pglite` and returns each statement's rows. */
export function simpleQueryOn(pglite: PGlite, sql: string): Promise<SimpleResult[]> {
  return run(pglite, queryMessage(sql));
}

/** Runs each call (in order, one implicit transaction) on `pglite` and returns each one's rows. */
export function boundQueryOn(pglite: PGlite, calls: readonly BoundCall[]): Promise<SimpleResult[]> {
  return run(pglite, boundMessage(calls));
}

async function run(pglite: PGlite, message: Uint8Array): Promise<SimpleResult[]> {
  if (pglite.closed) throw new Error("the store is closed");
  // Imported once (a dynamic import per call costs more than the query under a loader hook), and only where an
  // embedded store runs.
  parseType ??= (await import("@electric-sql/pglite")).types.parseType;
  const parse = parseType;
  return pglite._runExclusiveTransaction(() =>
    pglite._runExclusiveQuery(async () => {
      const reply = pglite.execProtocolRawSync(message);
      // A file system that keeps its files elsewhere than the engine writes them is brought up to date, as exec
      // does outside a transaction (the node file system writes through: nothing to do there).
      if (!pglite.isInTransaction()) await pglite.syncToFs();
      return readReply(reply, parse);
    }),
  );
}
