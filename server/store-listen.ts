/**
 * LISTEN on a PostgreSQL channel of the console's store, for signals between console processes (replicas).
 * With the embedded store there is one process and nothing to listen to. The LISTEN holds a connection of its
 * own; postgres.js reconnects it and re-listens after a drop. Not responsible for what payloads mean.
 */
import "server-only";
import { sql } from "drizzle-orm";
import { getStore } from "@/db/store";
import { getConfig } from "@/server/config";

/** Starts listening; resolves to a stop function, or undefined when the store is embedded. */
export async function listenOnStore(
  channel: string,
  onPayload: (payload: string) => void,
): Promise<(() => Promise<void>) | undefined> {
  const store = await getStore();
  const { databaseUrl } = getConfig();
  if (store.kind !== "postgres" || !databaseUrl) return undefined;
  const { default: postgres } = await import("postgres");
  const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await client.listen(channel, onPayload);
  } catch (err) {
    await client.end({ timeout: 1 });
    throw err;
  }
  return () => client.end({ timeout: 1 }).then(() => undefined);
}

/** NOTIFY on a channel of the store; nothing with the embedded store (one process). */
export async function notifyOnStore(channel: string, payload: string): Promise<void> {
  const store = await getStore();
  if (store.kind !== "postgres") return;
  await store.db.execute(sql`select pg_notify(${channel}, ${payload})`);
}
