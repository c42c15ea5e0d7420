// A gateway on real parts for integration tests: one PostgreSQL server holding the console's store (database
// "store") and a target database "shop", the process configured for them (DATABASE_URL, DATA_DIR), and a
// connection "shop" usable by the group "analysts". stop() closes everything the gateway opened.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { createDatabase, type PostgresServer, startPostgres } from "./postgres";

export const TEST_ACTOR = { id: null, label: "test" };

export interface GatewayFixture {
  pg: PostgresServer;
  storeUrl: string;
  targetUrl: string;
  dataDir: string;
  /** the id of the connection "shop" */
  connectionId: string;
  stop(): Promise<void>;
}

export async function startGatewayFixture(options: {
  name: string;
  targetSql?: string;
  /** PostgreSQL binaries of a given version (default: the newest installed) */
  binDir?: string;
}): Promise<GatewayFixture> {
  const pg = await startPostgres(options.binDir ? { binDir: options.binDir } : {});
  const storeUrl = await createDatabase(pg.url, "store");
  const targetUrl = await createDatabase(pg.url, "shop");
  if (options.targetSql) {
    const target = postgres(targetUrl, { max: 1, onnotice: () => {} });
    await target.unsafe(options.targetSql);
    await target.end();
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), `portcullis-${options.name}-`));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  const { createGroup } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(TEST_ACTOR, { name: "analysts" });
  const connection = await createConnection(TEST_ACTOR, {
    kind: "postgres",
    name: "shop",
    host: pg.host,
    port: pg.port,
    database: "shop",
    username: pg.user,
    password: pg.password,
    groups: ["analysts"],
  });
  return {
    pg,
    storeUrl,
    targetUrl,
    dataDir,
    connectionId: connection.id,
    async stop() {
      const { stopReviewSignals } = await import("@/server/approvals");
      const { settleWebhookDeliveries } = await import("@/server/webhooks");
      await settleWebhookDeliveries();
      await stopReviewSignals();
      const { closeAllPools } = await import("@/server/targets/postgres");
      await closeAllPools();
      const { getStore } = await import("@/db/store");
      await (await getStore()).close();
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
