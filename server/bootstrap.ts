/**
 * Start-up of the gateway process: opens the store (running migrations), wires the gateway core and its
 * channels, creates the first admin from
 * ADMIN_EMAIL/ADMIN_PASSWORD, starts the demo target, and, for the embedded store, opens a local socket so the
 * admin command line can reach the same database while the console runs.
 */
import "server-only";
import path from "node:path";
import { getStore } from "@/db/store";
import { startCampaignReminders } from "@/server/access-review";
import { startReviewSignals, stopReviewSignals } from "@/server/approvals";
import { SYSTEM_ACTOR, startAuditCheckpoints, startAuditForwarding } from "@/server/audit";
import { countPeople, createUser } from "@/server/auth";
import { startClassificationScans } from "@/server/classification";
import { getConfig } from "@/server/config";
import { registerDemoConnection, startDemoTarget } from "@/server/demo/demo-target";
import { wireGateway } from "@/server/gateway";
import { registerSqlChannel } from "@/server/pipeline";
import { startSearchIndexer, startSessionSweep } from "@/server/recording";
import { startRetentionJob } from "@/server/retention";
import { registerTerminalChannel, startTerminalSweep, stopTerminalSignals } from "@/server/terminal";
import {
  kickWebhookDelivery,
  notifyWebhookEvent,
  startWebhookDelivery,
  webhooksFor,
} from "@/server/webhooks";

export interface Started {
  demoPort?: number;
  storeSocket?: string;
  adminCreated?: string;
  stop(): Promise<void>;
}

export async function startGateway(): Promise<Started> {
  const config = getConfig();
  const store = await getStore();
  // The gateway core every channel passes, wired once with the production stores (server/gateway); each
  // channel registers how it runs what an approver let through (approvals/ knows no channel by name).
  wireGateway();
  registerSqlChannel();
  registerTerminalChannel();
  // Review decisions made on another replica wake the waiting requests and inboxes here.
  await startReviewSignals();
  // Request caches follow changes made on other replicas (and are bypassed until they can).
  const { startStoreCacheSignals, stopStoreCacheSignals } = await import("@/server/store-cache");
  await startStoreCacheSignals();
  // The terminals channel is listened to from the first terminal on; it is closed with the rest.
  // The SQL parser (WebAssembly) loads on first use, about 0.2 s: load it now, not in the first analyst's query.
  void import("@/server/policy").then((policy) => policy.classifySql("select 1")).catch(() => {});
  // Worker threads that mask large results (started now: their start-up compiles the masking code).
  const { closeMaskWorkers, warmMaskWorkers } = await import("@/server/masking");
  warmMaskWorkers();
  const stops: (() => Promise<void>)[] = [
    closeMaskWorkers,
    stopReviewSignals,
    stopTerminalSignals,
    stopStoreCacheSignals,
    startRetentionJob(),
    // Webhook deliveries owed before a restart are sent first; then new ones as they come.
    startWebhookDelivery(),
    startAuditCheckpoints(notifyWebhookEvent),
    startAuditForwarding({ subscribersOf: webhooksFor, kick: kickWebhookDelivery }),
    startCampaignReminders(),
    // Connections are sampled for sensitive columns in the background (CLASSIFICATION_SCAN_INTERVAL_MINUTES).
    startClassificationScans(),
    // Terminals left live by a console process that stopped are ended (a notice, then failed).
    startTerminalSweep(),
    // This process beats its heartbeat; native and terminal sessions left live by a stopped process are ended.
    startSessionSweep(),
    // Statements and commands recorded since are copied into the text search's table (decision 0026).
    startSearchIndexer(),
  ];
  const started: Started = {
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await store.close().catch(() => {});
    },
  };

  if (config.adminEmail && config.adminPassword && (await countPeople()) === 0) {
    await createUser(SYSTEM_ACTOR, {
      email: config.adminEmail,
      password: config.adminPassword,
      role: "admin",
      name: "Administrator",
    });
    started.adminCreated = config.adminEmail;
  }

  if (config.demoTarget) {
    const demo = await startDemoTarget();
    stops.push(demo.stop);
    await registerDemoConnection(demo.port);
    started.demoPort = demo.port;
  }

  if (store.kind === "pglite" && store.pglite) {
    // Admin commands run at the same time wait their turn on the socket (server/store-socket.ts).
    const { serveStoreSocket } = await import("@/server/store-socket");
    const socketPath = path.join(config.dataDir, ".store.sock");
    const { invalidateOnSocketQueries } = await import("@/server/store-cache");
    const socket = await serveStoreSocket(invalidateOnSocketQueries(store.pglite), socketPath);
    stops.push(socket.stop);
    started.storeSocket = socketPath;
  }
  return started;
}
