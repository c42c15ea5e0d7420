/**
 * The zero-setup demo target: an in-memory PGlite database with sample data, in a child process, served over
 * the PostgreSQL wire protocol on a local port so that the gateway reaches it like any other target. The "demo" connection
 * is created (or repointed at the new port) on every start, usable by the "analysts" group.
 */
import "server-only";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { connections } from "@/db/schema";
import { getDb } from "@/db/store";
import { SYSTEM_ACTOR } from "@/server/audit";
import { createGroup, findGroupsByName } from "@/server/auth";
import { getSettings } from "@/server/config";
import { createConnection } from "@/server/connections";

export const DEMO_CONNECTION = "demo";
export const DEMO_GROUP = "analysts";

export interface DemoTarget {
  port: number;
  stop(): Promise<void>;
}

/** Starts the demo database in its own process and resolves once it listens. */
export function startDemoTarget(preferredPort = getSettings().demoTargetPort): Promise<DemoTarget> {
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), "run-demo-target.ts");
  const child = spawn(process.execPath, ["--import", "tsx", entry, String(preferredPort)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the demo target did not start within 60 s"));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo target exited during start-up (code ${code})`));
    });
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /DEMO_TARGET_PORT=(\d+)/.exec(buffered);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({
        port: Number(match[1]),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

/** Creates the demo connection and group, or points the existing demo connection at the current port. */
export async function registerDemoConnection(port: number) {
  const db = await getDb();
  const [existing] = await db.select().from(connections).where(eq(connections.isDemo, true));
  if (existing) {
    if (existing.port !== port || existing.host !== "127.0.0.1") {
      await db
        .update(connections)
        .set({ host: "127.0.0.1", port, updatedAt: new Date() })
        .where(eq(connections.id, existing.id));
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
