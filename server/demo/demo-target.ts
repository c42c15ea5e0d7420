/**
 * The zero-setup demo target: an in-memory PGlite database with sample data, served over the PostgreSQL
 * wire protocol on a local port so that the gateway reaches it like any other target. The "demo" connection
 * is created (or repointed at the new port) on every start, usable by the "analysts" group.
 */
import "server-only";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { eq } from "drizzle-orm";
import { connections } from "@/db/schema";
import { getDb } from "@/db/store";
import { SYSTEM_ACTOR } from "@/server/audit";
import { findGroupsByName } from "@/server/auth/store";
import { createGroup } from "@/server/auth/users";
import { createConnection } from "@/server/connections/service";
import { sampleDataSql } from "./sample-data";

export const DEMO_CONNECTION = "demo";
export const DEMO_GROUP = "analysts";

export interface DemoTarget {
  port: number;
  stop(): Promise<void>;
}

export async function startDemoTarget(
  preferredPort = Number(process.env.DEMO_TARGET_PORT ?? 0),
): Promise<DemoTarget> {
  const db = await PGlite.create();
  await db.exec(sampleDataSql());
  let server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: preferredPort, maxConnections: 16 });
  try {
    await server.start();
  } catch {
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 });
    await server.start();
  }
  const port = Number(server.getServerConn().split(":").pop());
  return {
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** Creates the demo connection and group, or points the existing demo connection at the current port. */
export async function registerDemoConnection(port: number) {
  const db = await getDb();
  const [existing] = await db.select().from(connections).where(eq(connections.isDemo, true));
  if (existing) {
    if (existing.port !== port || existing.host !== "127.0.0.1") {
      await db.update(connections).set({ host: "127.0.0.1", port }).where(eq(connections.id, existing.id));
    }
    return;
  }
  const [group] = await findGroupsByName(db, [DEMO_GROUP]);
  if (!group)
    await createGroup(SYSTEM_ACTOR, { name: DEMO_GROUP, description: "People who query the demo database" });
  await createConnection(
    SYSTEM_ACTOR,
    {
      kind: "postgres",
      name: DEMO_CONNECTION,
      description: "Demo database with sample customers, orders, support tickets and API keys",
      host: "127.0.0.1",
      port,
      database: "postgres",
      username: "postgres",
      password: "demo-password",
      groups: [DEMO_GROUP],
    },
    { isDemo: true },
  );
}
