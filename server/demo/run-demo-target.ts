/**
 * Entry point of the demo target's own process: PGlite runs queries synchronously on its thread, so a slow
 * demo query (pg_sleep) must not stall the console. Prints `DEMO_TARGET_PORT=<port>` when ready and exits
 * when its parent goes away (stdin closes).
 */
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { sampleDataSql } from "./sample-data";

async function main() {
  const preferred = Number(process.argv[2] ?? 0);
  const db = await PGlite.create();
  await db.exec(sampleDataSql());
  let server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: preferred, maxConnections: 16 });
  try {
    await server.start();
  } catch {
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 });
    await server.start();
  }
  process.stdout.write(`DEMO_TARGET_PORT=${server.getServerConn().split(":").pop()}\n`);
  const stop = async () => {
    await server.stop().catch(() => {});
    await db.close().catch(() => {});
    process.exit(0);
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error("[demo-target] failed to start:", err);
  process.exit(1);
});
