/**
 * Statements on the hot path run as prepared statements, so the store does not parse and plan them on every
 * call. On PostgreSQL the statement goes to postgres.js with its parameters and `prepare: true` (a named statement
 * per connection): drizzle's `execute` would not prepare it (postgres.js's `unsafe` defaults to `prepare: false`),
 * which cost a lone append on PostgreSQL about half its speed (decision 0021, second round). The embedded PGlite
 * plans every query it is given, which costs about as much as the work for a small append (measured 1.27 ms ->
 * 0.60 ms per session event append); there the statement is PREPAREd once and run by name with its values bound as
 * text parameters (Bind and Execute in one prebuilt message: ./simple-query.ts), so the engine never lexes a value
 * as a SQL literal (decision 0027, session 11: about 40% of the engine's work for a 256 KiB terminal output). A
 * stand-in for PGlite without that path gets EXECUTEs with literals, quoted for standard_conforming_strings (checked
 * before the first PREPARE). The embedded store's one session is shared with the admin command line's socket, which
 * could deallocate it: a missing statement is prepared again.
 * runPreparedBatch runs several statements in one transaction (one commit, one WAL flush) for the recorder's
 * group commit: on PGlite the calls go out as one message ending in one Sync (one round trip), which the server
 * runs as one implicit transaction; on PostgreSQL they are pipelined with their parameters on one
 * connection inside the transaction (values are never written into the text there: decision 0021 measured no
 * gain from one message). A failure anywhere rolls the whole batch back.
 * Not responsible for what the statements do, nor for which writes are grouped (server/recording).
 */
import "server-only";
import type { PGlite } from "@electric-sql/pglite";
import { rowsOf } from "./rows";
import { type BoundCall, boundQueryOn, type SimpleResult } from "./simple-query";
import type { Store } from "./store";

export interface PreparedStatement {
  /** a name unique to this statement text (change it when the text changes) */
  name: string;
  /** the statement, with $1..$n */
  text: string;
  /** the PostgreSQL type of each parameter, in order */
  types: readonly string[];
}

export type PreparedValue = string | number | null;

/** A SQL literal for `value` (standard_conforming_strings on: only the quote is special). */
export function sqlLiteral(value: PreparedValue): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error("a prepared statement argument is not a finite number");
    return String(value);
  }
  if (value.includes("\u0000")) throw new Error("a prepared statement argument holds a NUL character");
  return `'${value.replaceAll("'", "''")}'`;
}

/** Prepared statements run by name with bound values (./simple-query.ts), where the PGlite runs. */
function boundQuery(
  pglite: NonNullable<Store["pglite"]>,
  calls: readonly BoundCall[],
): Promise<SimpleResult[]> {
  if (pglite.boundQuery) return pglite.boundQuery(calls);
  if ("execProtocolRawSync" in pglite) return boundQueryOn(pglite as PGlite, calls);
  // Any other stand-in for PGlite: EXECUTEs with literals through its own exec (the same rows, more work).
  const sql = calls
    .map((call) => `execute ${call.name}(${call.values.map(sqlLiteral).join(", ")})`)
    .join(";\n");
  return pglite
    .exec(sql)
    .then((results) => results.map((r) => ({ rows: r.rows as Record<string, unknown>[] })));
}

const prepared = new WeakMap<object, Set<string>>();
const conforming = new WeakMap<object, Promise<void>>();

async function checkConformingStrings(pglite: NonNullable<Store["pglite"]>) {
  const result = await pglite.query<{ standard_conforming_strings: string }>(
    "show standard_conforming_strings",
  );
  if (result.rows[0]?.standard_conforming_strings !== "on")
    throw new Error("the embedded store must run with standard_conforming_strings on");
}

function checkArity(statement: PreparedStatement, values: readonly PreparedValue[]) {
  if (values.length !== statement.types.length)
    throw new Error(`${statement.name} takes ${statement.types.length} arguments, not ${values.length}`);
}

async function preparedNames(pglite: NonNullable<Store["pglite"]>): Promise<Set<string>> {
  let check = conforming.get(pglite);
  if (!check) {
    check = checkConformingStrings(pglite);
    conforming.set(pglite, check);
  }
  await check;
  let names = prepared.get(pglite);
  if (!names) {
    names = new Set();
    prepared.set(pglite, names);
  }
  return names;
}

async function prepareOnce(
  pglite: NonNullable<Store["pglite"]>,
  names: Set<string>,
  statement: PreparedStatement,
) {
  if (names.has(statement.name)) return;
  await pglite
    .exec(`prepare ${statement.name}(${statement.types.join(", ")}) as ${statement.text}`)
    .catch((err: { code?: string }) => {
      if (err.code !== "42P05") throw err; // already prepared in this session (by an earlier process state)
    });
  names.add(statement.name);
}

const bound = (call: PreparedCall): BoundCall => ({ name: call.statement.name, values: call.values });

export interface PreparedCall {
  statement: PreparedStatement;
  values: readonly PreparedValue[];
}

/**
 * Runs every call in one transaction, in order, and returns each call's rows. All or nothing: when one fails,
 * none is kept and the error is thrown (the caller may run them one by one to learn which).
 */
export async function runPreparedBatch<T>(store: Store, calls: readonly PreparedCall[]): Promise<T[][]> {
  for (const call of calls) checkArity(call.statement, call.values);
  const pglite = store.pglite;
  if (store.kind !== "pglite" || !pglite) {
    const client = (store.db as unknown as { $client: import("postgres").Sql }).$client;
    // Returning the queries as an array pipelines them on the transaction's connection (postgres.js).
    const results = await client.begin((tx) =>
      calls.map((call) => tx.unsafe(call.statement.text, call.values as PreparedValue[], { prepare: true })),
    );
    return results.map((rows) => rowsOf<T>(rows));
  }
  const names = await preparedNames(pglite);
  // The calls go as one message ending in one Sync, which PostgreSQL runs as one implicit transaction (all or
  // nothing, one commit): no BEGIN and COMMIT calls of their own. Values are refused (NUL, non-finite numbers)
  // before anything is sent.
  const batch = calls.map(bound);
  for (let attempt = 0; ; attempt++) {
    for (const call of calls) await prepareOnce(pglite, names, call.statement);
    try {
      const results = await boundQuery(pglite, batch);
      if (results.length !== calls.length)
        throw new Error("the store answered a batch with the wrong number of results");
      return results.map((result) => (result.rows ?? []) as T[]);
    } catch (err) {
      // 26000: a statement was deallocated (DISCARD ALL or DEALLOCATE through the admin socket).
      if ((err as { code?: string }).code !== "26000" || attempt > 0) throw err;
      names.clear();
    }
  }
}

/** Runs `statement` with `values` and returns its rows. */
export async function runPrepared<T>(
  store: Store,
  statement: PreparedStatement,
  values: readonly PreparedValue[],
): Promise<T[]> {
  checkArity(statement, values);
  const pglite = store.pglite;
  if (store.kind !== "pglite" || !pglite) {
    // Straight to postgres.js with its parameters, prepared as the batch path's are (drizzle's execute would send
    // it unprepared, to be parsed and planned again on every append).
    const client = (store.db as unknown as { $client: import("postgres").Sql }).$client;
    return rowsOf<T>(await client.unsafe(statement.text, values as PreparedValue[], { prepare: true }));
  }
  const names = await preparedNames(pglite);
  const call = [bound({ statement, values })];
  for (let attempt = 0; ; attempt++) {
    await prepareOnce(pglite, names, statement);
    try {
      return ((await boundQuery(pglite, call))[0]?.rows ?? []) as T[];
    } catch (err) {
      // 26000: the statement was deallocated (DISCARD ALL or DEALLOCATE through the admin socket).
      if ((err as { code?: string }).code !== "26000" || attempt > 0) throw err;
      names.delete(statement.name);
    }
  }
}
