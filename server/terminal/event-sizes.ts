/**
 * The largest terminal recording events, shared by the recorder that writes them and the replay and export
 * that page through them. A module of its own so that those readers (reached from API routes) do not import
 * the recorder and, through it, the screen serializer the console's bundles leave out.
 * Not responsible for splitting or coalescing events (recorder.ts).
 */
import "server-only";

/** Largest input event; bigger runs are split. */
export const MAX_EVENT_CHARS = 32 * 1024;
/**
 * Largest output event. Output only coalesces while a write is in flight, so an interactive session still
 * writes small events; under bulk output one write carries up to this much, and the store's per-event cost
 * (the statement, the chain hash, the commit) is paid per 256 KB instead of per 32 KB.
 */
export const MAX_OUTPUT_EVENT_CHARS = 256 * 1024;
