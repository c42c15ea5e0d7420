/**
 * Lineage of the rows a FETCH reads from a cursor, on a native client's own target session. A FETCH names a
 * cursor, not a query, and a cursor's name says nothing certain about its query: a function can close a cursor
 * and open another under the same name (a refcursor), a FETCH of one cursor can run a function that does so to
 * another, and the same DECLARE sent after `SET search_path` reads other tables. So the gateway remembers, per
 * pinned session, for each cursor a DECLARE it ran **successfully** opened: the DECLARE's exact text and the
 * lineage of its query (explained on that session just before the DECLARE ran, so under the same settings). A
 * FETCH gets that lineage only when the target's own `pg_cursors` says the cursor of that name was declared by
 * exactly that text (PostgreSQL keeps the text of the top-level statement that opened each cursor): a cursor
 * opened by anything else was opened by another statement's text, so its rows stay untraced (every column masked,
 * as before). A DECLARE that failed is never remembered (its lineage could describe a query that is not the open
 * cursor's). Not responsible for explaining statements (masking-lineage.ts), masking, or deciding anything.
 */
import "server-only";
import type { LineageAnswer } from "@/server/masking-lineage";

type Lookup = (text: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>;

interface Declared {
  text: string;
  answer: LineageAnswer;
}

/** Cursors remembered per session; the oldest goes first beyond this (a FETCH of it is then untraced). */
const MAX_CURSORS = 64;
const declaredBySession = new WeakMap<object, Map<string, Declared>>();

/** Remembers what `portal` reads, once the DECLARE of `text` has run on `session` without error. */
export function rememberDeclaredCursor(session: object, portal: string, text: string, answer: LineageAnswer) {
  const cursors = declaredBySession.get(session) ?? new Map<string, Declared>();
  declaredBySession.set(session, cursors);
  cursors.delete(portal);
  if (cursors.size >= MAX_CURSORS) cursors.delete(cursors.keys().next().value as string);
  cursors.set(portal, { text, answer });
}

/**
 * The lineage of what FETCH from `portal` returns, when the cursor open under that name on the session is the one
 * a remembered DECLARE opened; otherwise undefined (untraced). `lookup` runs on the session itself.
 */
export async function fetchedCursorLineage(
  session: object,
  portal: string,
  lookup: Lookup,
): Promise<LineageAnswer | undefined> {
  const declared = declaredBySession.get(session)?.get(portal);
  if (!declared) return undefined;
  let rows: readonly Record<string, unknown>[];
  try {
    // Qualified: a temporary view named pg_cursors would come first on the search path.
    rows = await lookup("select statement from pg_catalog.pg_cursors where name operator(pg_catalog.=) $1", [
      portal,
    ]);
  } catch {
    return undefined;
  }
  return rows.length === 1 && rows[0]?.statement === declared.text ? declared.answer : undefined;
}
