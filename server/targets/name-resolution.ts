/**
 * How a target session resolves names, as the target itself says: the effective search path (as
 * `current_schemas(true)` expands it: `$user`, pg_catalog where it is implied; temporary schemas left out) and
 * whether the session has temporary relations or types, which come first on the path. Two sessions that answer
 * the same resolve a statement's tables and types alike, so a plan explained on one (lineage) holds for the
 * other. Asked of a native client's own session before each input (a client can `SET search_path`, a function
 * can call set_config, a session can create temporary tables) and of the pool's read-only session, where
 * lineage explains statements before they run. Not responsible for what differs in privileges (a plan the
 * session may not see fails, and is then untraced) or for deciding which answer to use (the pipeline).
 */
import "server-only";
import { processSingleton } from "@/server/singleton";
import { type PinnedSession, readOnlyQuery } from "./postgres";

// pg_my_temp_schema() is 0 until the session first creates a temporary object: then nothing is scanned.
const PROBE = `select pg_catalog.array_to_string(array(select s from pg_catalog.unnest(pg_catalog.current_schemas(true)) s
  where s !~ '^pg_temp_'), ',') || ' temp:' || (pg_catalog.pg_my_temp_schema() <> 0 and (exists(select
  from pg_catalog.pg_class where relnamespace = pg_catalog.pg_my_temp_schema()) or exists(select
  from pg_catalog.pg_type where typnamespace = pg_catalog.pg_my_temp_schema())))::text as resolution`;

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
