/**
 * The messages between the console's main thread (./store-thread.ts) and the embedded store's worker thread
 * (./store-worker.ts): requests, replies, errors as they cross threads. Not responsible for either side's work.
 */
import "server-only";
import type { BoundCall } from "./simple-query";

/** Query options as they cross threads (functions cannot): types to leave as text instead of parsers. */
export interface WireQueryOptions {
  rowMode?: "array" | "object";
  /** type OIDs whose values stay as PostgreSQL's text (drizzle's parsers do exactly that) */
  textTypes?: number[];
  paramTypes?: number[];
}

export type StoreRequest =
  | { id: number; op: "query"; sql: string; params: unknown[]; options: WireQueryOptions; tx?: number }
  | { id: number; op: "exec"; sql: string; options: WireQueryOptions; tx?: number }
  /** prepared statements run by name with bound values, outside PGlite's exec (./simple-query.ts): the recorder */
  | { id: number; op: "bound"; calls: readonly BoundCall[] }
  | { id: number; op: "begin" }
  | { id: number; op: "end"; tx: number; commit: boolean }
  | { id: number; op: "lock" }
  | { id: number; op: "unlock"; lock: number }
  | { id: number; op: "protocol"; message: Uint8Array }
  | { id: number; op: "close" };

/** An error's message and its PostgreSQL fields (code, detail, ...), which a structured clone would drop. */
export interface WireError {
  name: string;
  message: string;
  fields: Record<string, string | number>;
}

export type StoreReply =
  | { id: number; value: unknown; inTransaction?: boolean }
  | { id: number; error: WireError }
  /** a chunk of a protocol message's answer; the answer ends with a `value` reply */
  | { id: number; data: Uint8Array };

export interface StoreWorkerData {
  role: "portcullis-store";
  dataDir: string;
  migrationsFolder: string;
}

/** The id of the reply that says the store is open (or why not). */
export const OPENED = 0;

export function wireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err), fields: {} };
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(err)) {
    if (key !== "name" && key !== "message" && (typeof value === "string" || typeof value === "number"))
      fields[key] = value;
  }
  return { name: err.name, message: err.message, fields };
}

export function errorFrom(wire: WireError): Error {
  const err = new Error(wire.message);
  err.name = wire.name;
  return Object.assign(err, wire.fields);
}
