/**
 * How a target session resolves names, as the target itself says: the effective search path (as
 * `current_schemas(true)` expands it: `$user`, pg_catalog where it is implied; temporary schemas left out) and
 * whether the session has temporary relations or types, which come first on the path. Two sessions that answer
 * the same resolve a statement's tables and types alike, so a plan explained on one (lineage) holds for the
 * other. Asked of the pool's read-only session, where lineage explains statements before they run; of a native
 * client's own session either as a question of its own (pinnedResolution) or as a check sent in the same message
 * as a read, just before it (nameCheck, PinnedSession.readInOneTrip), which stops the message there when the
 * session resolves otherwise. Every operator in the text is pg_catalog's by name: the session's own search_path
 * could put a schema with an `||` or `=` of someone's making before pg_catalog. Not responsible for what differs
 * in privileges (a plan the session may not see fails, and is then untraced) or for deciding which answer to use
 * (the pipeline).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { processSingleton } from "@/server/singleton";
import { type NameCheck, type PinnedSession, readOnlyQuery } from "./postgres";

// pg_my_temp_schema() is 0 until the session first creates a temporary object: then nothing is scanned.
const RESOLUTION = `pg_catalog.array_to_string(array(select s from pg_catalog.unnest(pg_catalog.current_schemas(true)) s
  where s operator(pg_catalog.!~) '^pg_temp_'), ',') operator(pg_catalog.||) ' temp:' operator(pg_catalog.||)
  (pg_catalog.pg_my_temp_schema() operator(pg_catalog.<>) 0 and (exists(select from pg_catalog.pg_class
  where relnamespace operator(pg_catalog.=) pg_catalog.pg_my_temp_schema()) or exists(select from pg_catalog.pg_type
  where typnamespace operator(pg_catalog.=) pg_catalog.pg_my_temp_schema())))::text`;
const PROBE = `select ${RESOLUTION} as resolution`;

/**
 * A statement that returns no row when the session resolves names as `expected` says, and otherwise fails with an
 * error of its own (a cast of a text naming a one-time token, raised when it runs, not when it is planned: its
 * condition reads the session). Sent in one Query before a read (or with the read's read-only opening), it stops
 * there, before the read is parsed against the catalog, so a read whose plan was explained elsewhere never runs
 * under other names. The expected text goes as the hex of its UTF-8 bytes: the statement is ASCII without a
 * backslash, read alike under any standard_conforming_strings and client_encoding. A read can fail with the same
 * words only by knowing the token, made anew for each check; even then it is only run the safe way.
 */
export function nameCheck(expected: string): NameCheck {
  const refusal = `portcullis: names resolve otherwise ${randomUUID()}`;
  const hex = Buffer.from(expected, "utf8").toString("hex");
  return {
    statement: `select where (case when pg_catalog.encode(pg_catalog.convert_to(${RESOLUTION}, 'UTF8'), 'hex') operator(pg_catalog.=) '${hex}' then '0' else '${refusal}' end)::pg_catalog.int4 operator(pg_catalog.<>) 0`,
    isRefusal: (err) =>
      (err as { code?: unknown } | null)?.code === "22P02" &&
      err instanceof Error &&
      err.message.includes(refusal),
  };
}

function resolutionOf(rows: readonly Record<string, unknown>[]): string | undefined {
  const value = rows[0]?.resolution;
  return typeof value === "string" ? value : undefined;
}

/**
 * The pinned session's resolution now, or undefined when it cannot say (its transaction failed: what runs next
 * fails too). Sent as it is, without a savepoint: it reads the catalog only, and changes nothing when it fails.
 */
export async function pinnedResolution(pinned: PinnedSession): Promise<string | undefined> {
  if (pinned.closed) return undefined;
  try {
    return resolutionOf((await pinned.sql.unsafe(PROBE)) as unknown as Record<string, unknown>[]);
  } catch {
    return undefined;
  }
}

const POOL_TTL_MS = 60_000;
const poolResolutions = processSingleton(
  "poolNameResolutions",
  () => new Map<string, { version: string; at: number; resolution: string }>(),
);

/** The resolution of the pool's read-only sessions (they are reset between callers): asked once a minute. */
export async function poolResolution(connectionId: string, version: string): Promise<string | undefined> {
  const known = poolResolutions.get(connectionId);
  if (known && known.version === version && Date.now() - known.at < POOL_TTL_MS) return known.resolution;
  try {
    const query = await readOnlyQuery(connectionId, version);
    const resolution = resolutionOf(await query(PROBE));
    if (resolution !== undefined) poolResolutions.set(connectionId, { version, at: Date.now(), resolution });
    return resolution;
  } catch {
    return undefined;
  }
}
