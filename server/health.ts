/** Liveness and readiness: the store answers a query. */
import "server-only";
import { sql } from "drizzle-orm";
import { getDb } from "@/db/store";
import { GatewayError } from "@/server/errors";

export async function checkHealth() {
  try {
    const db = await getDb();
    await db.execute(sql`select 1`);
    return { status: "ok" };
  } catch {
    throw new GatewayError("target_unavailable", "the console's store is not reachable");
  }
}
