/**
 * Statements on the hot path run as prepared statements, so the store does not parse and plan them on every
 * call. On PostgreSQL (postgres.js) that is what the driver does for any parameterized query, so the statement is
 * just run. The embedded PGlite plans every query it is given, which costs about as much as the work for a small
 * append (measured 1.27 ms -> 0.60 ms per session event append); there the statement is PREPAREd once and run with
 * EXECUTE, its arguments written as SQL literals (EXECUTE takes no bind parameters), quoted for
 * standard_conforming_strings, which is checked before the first PREPARE. The embedded store's one session is
 * shared with the admin command line's socket, which could deallocate it: a missing statement is prepared again.
 * Not responsible for what the statements do.
 */
import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf } from "./rows";
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

const prepared = new WeakMap<object, Set<string>>();
/** a statement's text cut at its $n placeholders (text, number, text, ...), for the PostgreSQL store */
const textChunks = new WeakMap<PreparedStatement, string[]>();
const conforming = new WeakMap<object, Promise<void>>();

async function checkConformingStrings(pglite: NonNullable<Store["pglite"]>) {
  const result = await pglite.query<{ standard_conforming_strings: string }>(
    "show standard_conforming_strings",
  );
  if (result.rows[0]?.standard_conforming_strings !== "on")
    throw new Error("the embedded store must run with standard_conforming_strings on");
}

/** Runs `statement` with `values` and returns its rows. */
export async function runPrepared<T>(
  store: Store,
  statement: PreparedStatement,
  values: readonly PreparedValue[],
): Promise<T[]> {
  if (values.length !== statement.types.length)
    throw new Error(`${statement.name} takes ${statement.types.length} arguments, not ${values.length}`);
  const pglite = store.pglite;
  if (store.kind !== "pglite" || !pglite) {
    let chunks = textChunks.get(statement);
    if (!chunks) {
      chunks = statement.text.split(/\$(\d+)/);
      textChunks.set(statement, chunks);
    }
    // Rebuilt as a drizzle query with the same parameters: postgres.js prepares it (its default).
    const query = sql.join(
      chunks.map((chunk, i) => (i % 2 === 0 ? sql.raw(chunk) : sql`${values[Number(chunk) - 1] ?? null}`)),
    );
    return rowsOf<T>(await store.db.execute(query));
  }
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
  const execute = `execute ${statement.name}(${values.map(sqlLiteral).join(", ")})`;
  for (let attempt = 0; ; attempt++) {
    if (!names.has(statement.name)) {
      await pglite
        .exec(`prepare ${statement.name}(${statement.types.join(", ")}) as ${statement.text}`)
        .catch((err: { code?: string }) => {
          if (err.code !== "42P05") throw err; // already prepared in this session (by an earlier process state)
        });
      names.add(statement.name);
    }
    try {
      // The simple protocol: one message instead of the extended protocol's five (EXECUTE takes no parameters).
      return ((await pglite.exec(execute))[0]?.rows ?? []) as T[];
    } catch (err) {
      // 26000: the statement was deallocated (DISCARD ALL or DEALLOCATE through the admin socket).
      if ((err as { code?: string }).code !== "26000" || attempt > 0) throw err;
      names.delete(statement.name);
    }
  }
}
