/**
 * The Portcullis process: Next.js (pages and API) plus WebSocket endpoints on one HTTP server.
 * `npm start` builds and runs this in production mode; `npm run dev` runs it with --dev.
 */
import { createServer } from "node:http";
import next from "next";
import { ConfigError, getConfig } from "@/server/config";
import { keepLoggingSafe } from "@/server/log-streams";

const dev = process.argv.includes("--dev");

async function main() {
  // Files this process creates (the embedded store, keys, the store socket, logs) are its user's alone.
  process.umask(0o077);
  // A closed stdout or stderr must not stop the console (server/log-streams.ts).
  keepLoggingSafe(() => getConfig().dataDir);
  const config = getConfig();
  process.env.NEXTAUTH_URL ??= config.publicUrl;
  const app = next({ dev, hostname: "localhost", port: config.port });
  // Server modules are loaded once Next.js has set up its request context (AsyncLocalStorage), after
  // prepare(): they reach server/auth, whose surface includes next-auth and next/headers.
  await app.prepare();
  const { startGateway } = await import("@/server/bootstrap");
  const { handleUpgrade } = await import("@/server/realtime");
  await import("@/server/terminal/socket"); // registers /ws/terminal
  const started = await startGateway();
  const handle = app.getRequestHandler();
  // The PostgreSQL wire listener (PG_LISTEN_PORT), next to HTTP in this process (server/listeners).
  const { startPgListener } = await import("@/server/listeners");
  const pgListener =
    config.pgListen &&
    (await startPgListener({
      config: config.pgListen,
      dataDir: config.dataDir,
      publicUrl: config.publicUrl,
    }));
  // After prepare(): route modules import next/server, which needs Next's AsyncLocalStorage set up.
  // The SQL data path skips Next's router (docs/decisions/0004-sql-data-path.md): the same route modules,
  // the same withAuth wrapper, called directly. Everything else goes to Next.
  const { dispatchDataRoute, lingerAfterRefusedBody } = await import("@/server/http/node-adapter");
  const { applySecurityHeaders, securityHeaders } = await import("@/server/http/security-headers");
  const { stampClientAddress } = await import("@/server/http/client-address");
  const headers = securityHeaders({ dev });
  const exec = await import("@/app/api/v1/connections/[name]/exec/route");
  const check = await import("@/app/api/v1/connections/[name]/check/route");
  // DATA_PATH_DISPATCH=off sends these through Next as well (to compare, or to rule the dispatch out).
  const dataRoutes = config.dataPathDispatch
    ? [
        { method: "POST", pattern: /^\/api\/v1\/connections\/(?<name>[^/]+)\/exec$/, handler: exec.POST },
        { method: "POST", pattern: /^\/api\/v1\/connections\/(?<name>[^/]+)\/check$/, handler: check.POST },
      ]
    : [];
  const server = createServer((req, res) => {
    // Every reply carries the security headers; every handler sees the client's address as worked out here.
    applySecurityHeaders(res, headers);
    stampClientAddress(req, config.trustProxyHops);
    if (dispatchDataRoute(dataRoutes, req, res)) return;
    // A body Next's routes refused as too large is not read whole, and its client still gets the 413.
    res.once("finish", () => {
      if (res.statusCode === 413) lingerAfterRefusedBody(req);
    });
    handle(req, res).catch((err) => {
      console.error("[portcullis] request failed:", err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const nextUpgrade = dev ? app.getUpgradeHandler() : undefined;
  server.on("upgrade", (req, socket, head) => {
    if (handleUpgrade(req, socket, head)) return;
    if (nextUpgrade) nextUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, resolve);
  });

  console.log(`\nPortcullis is running at ${config.publicUrl}`);
  if (started.adminCreated) console.log(`  Sign in as ${started.adminCreated} with ADMIN_PASSWORD.`);
  else
    console.log(
      `  Sign in at ${config.publicUrl}/signin (first visit with no users opens ${config.publicUrl}/setup).`,
    );
  if (started.demoPort)
    console.log(`  Demo target: connection "demo" (PostgreSQL on 127.0.0.1:${started.demoPort}).`);
  if (pgListener)
    console.log(
      `  PostgreSQL clients: ${pgListener.host}:${pgListener.port} (TLS certificate SHA-256 ${pgListener.fingerprint})`,
    );
  console.log(
    `  Store: ${config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${config.dataDir}`}\n`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[portcullis] ${signal}: shutting down`);
    server.close();
    await pgListener?.close();
    await started.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  // A malformed variable is the operator's to fix: its message says which and how, a stack would bury it.
  if (err instanceof ConfigError) console.error(`[portcullis] failed to start: ${err.message}`);
  else console.error("[portcullis] failed to start:", err);
  process.exit(1);
});
