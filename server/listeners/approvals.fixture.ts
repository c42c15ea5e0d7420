// Test helpers for native clients (native-approvals, review-notices, copy-in, drivers .int.test.ts): a group and
// a connection to a real target database; a listener on a free loopback port, TLS with its generated
// certificate, plain text from loopback only; a console with service accounts, an approver and the real route
// handlers to decide reviews; one-connection access to a database; and psql kept open across steps.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { encode } from "next-auth/jwt";
import postgres from "postgres";
import { type RouteServer, startRouteServer } from "@/server/http/route-server.fixture";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import type { PostgresServer } from "@/test/harness/postgres";
import type { PgListener } from "./pg-listener";

const actor = { id: null, label: "test" };

/**
 * Creates `group` and a connection named `name` to `database` on `server` under its own credentials, usable by
 * that group (the test has pointed DATABASE_URL and DATA_DIR at its store and data directory first).
 */
export async function prepareGateway(options: {
  server: PostgresServer;
  name: string;
  database: string;
  group: string;
}): Promise<void> {
  const { createGroup } = await import("@/server/auth");
  const { createConnection } = await import("@/server/connections");
  await createGroup(actor, { name: options.group });
  await createConnection(actor, {
    kind: "postgres",
    name: options.name,
    host: options.server.host,
    port: options.server.port,
    database: options.database,
    username: options.server.user,
    password: options.server.password,
    groups: [options.group],
  });
}

/** Stops what prepareGateway and a listener started: the listener, target pools, the store, the server. */
export async function stopGateway(
  listener: PgListener | undefined,
  server: PostgresServer | undefined,
  dataDir?: string,
) {
  await listener?.close();
  const { closeAllPools } = await import("@/server/targets/postgres");
  await closeAllPools();
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

/** `body` on one connection to the database at `url`, closed afterwards. */
export async function onDatabase<T>(url: string, body: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await body(sql);
  } finally {
    await sql.end();
  }
}

/** A review as the decision route answers it. */
export interface DecidedReview {
  state?: string;
  parameters?: unknown;
}

/**
 * A console whose native clients' statements are held and decided: the gateway fixture (a PostgreSQL 15 target
 * "shop" and store, and what GatewayFixture gives), one service account per name in `accounts` (group "analysts", tokens by name), an admin
 * approver, the real route handlers and a loopback listener. The test sets PUBLIC_URL to `publicUrl` first.
 */
export interface ApprovalsConsole extends GatewayFixture {
  server: RouteServer;
  listener: PgListener;
  tokens: Record<string, string>;
  approverId: string;
  /** Approves or denies a review as the approver, through the real route handler, from the console's origin. */
  decide(reviewId: string, decision?: "approve" | "deny", comment?: string): Promise<DecidedReview>;
  onTarget<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T>;
  onStore<T>(body: (sql: postgres.Sql) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startApprovalsConsole(options: {
  name: string;
  targetSql: string;
  accounts: string[];
  publicUrl: string;
}): Promise<ApprovalsConsole> {
  const gateway = await startGatewayFixture({ name: options.name, targetSql: options.targetSql });
  const { createServiceAccount, createUser } = await import("@/server/auth");
  const tokens: Record<string, string> = {};
  for (const name of options.accounts)
    tokens[name] = (await createServiceAccount(TEST_ACTOR, { name, groups: ["analysts"] })).token;
  const approverId = await createUser(TEST_ACTOR, {
    email: "approver@example.com",
    password: "a long enough password",
    groups: [],
    role: "admin",
  });
  const server = await startRouteServer();
  const listener = await startLoopbackListener(gateway.dataDir, options.publicUrl);
  return {
    ...gateway,
    server,
    listener,
    tokens,
    approverId,
    async decide(reviewId, decision = "approve", comment = "fine") {
      const { getConfig } = await import("@/server/config");
      const { currentSessionEpoch } = await import("@/server/auth");
      const session = await encode({
        token: { uid: approverId, epoch: await currentSessionEpoch(approverId) },
        secret: getConfig().authSecret,
      });
      const response = await fetch(`${server.url}/api/v1/reviews/${reviewId}/${decision}`, {
        method: "POST",
        headers: {
          cookie: `next-auth.session-token=${session}`,
          origin: options.publicUrl,
          "content-type": "application/json",
        },
        body: JSON.stringify({ comment }),
      });
      const body = (await response.json()) as { review?: DecidedReview; error?: string };
      if (response.status !== 200 || !body.review)
        throw new Error(
          `deciding review ${reviewId} answered ${response.status}: ${body.error ?? "no review"}`,
        );
      return body.review;
    },
    onTarget: (body) => onDatabase(gateway.targetUrl, body),
    onStore: (body) => onDatabase(gateway.storeUrl, body),
    async stop() {
      await listener.close();
      await server.close();
      await gateway.stop();
    },
  };
}

export async function startLoopbackListener(dataDir: string, publicUrl: string): Promise<PgListener> {
  const { startPgListener } = await import("./pg-listener");
  return startPgListener({
    config: {
      port: 0,
      host: "127.0.0.1",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: undefined,
    },
    dataDir,
    publicUrl,
  });
}

/**
 * psql kept open across steps (one connection): each step's input, then an \\echo marker; its stdout and stderr
 * returned once the marker came back.
 */
export function interactivePsql(conninfo: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcessWithoutNullStreams = spawn("psql", [conninfo, "-X", "-v", "VERBOSITY=verbose"], {
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let step = 0;
  return {
    async send(input: string) {
      const marker = `step-done-${++step}`;
      const [outFrom, errFrom] = [stdout.length, stderr.length];
      child.stdin.write(`${input}\n\\echo ${marker}\n`);
      while (!stdout.includes(marker)) {
        if (child.exitCode !== null) throw new Error(`psql ended: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { stdout: stdout.slice(outFrom).replace(`${marker}\n`, ""), stderr: stderr.slice(errFrom) };
    },
    async end() {
      child.stdin.end();
      await new Promise((r) => child.once("exit", r));
    },
  };
}
