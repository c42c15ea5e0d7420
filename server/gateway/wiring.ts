/**
 * The running console's gateway core: the production dependencies (the connection registry, the rules store,
 * the masking settings, the session recorder, the reviews, the monotonic clock), wired once per process.
 * bootstrap.ts wires it at start-up; a process that never started the console (a test, a script) gets the same
 * wiring on first use. Not responsible for the channels: each builds itself over gatewayCore().
 */
import "server-only";
import { createReview } from "@/server/approvals";
import { getConnectionForUse } from "@/server/connections";
import { maskingConfigFor } from "@/server/masking-config";
import { loadCommandRules, loadRules } from "@/server/policy";
import { appendSessionEvent, resumeSession, startSession, startSessionWithEvent } from "@/server/recording";
import { processSingleton } from "@/server/singleton";
import { createGatewayCore, type GatewayCore, type GatewayDeps } from "./core";

export function productionGatewayDeps(): GatewayDeps {
  return {
    connections: { forUse: getConnectionForUse },
    rules: { sql: loadRules, commands: loadCommandRules },
    masking: { configFor: maskingConfigFor },
    recorder: { appendSessionEvent, resumeSession, startSession, startSessionWithEvent },
    reviews: { create: createReview },
    clock: { now: () => performance.now() },
  };
}

const wired = processSingleton<{ core?: GatewayCore }>("gatewayCore", () => ({}));

/** Wires the process's core (start-up); again only to replace it. */
export function wireGateway(deps: GatewayDeps = productionGatewayDeps()): GatewayCore {
  wired.core = createGatewayCore(deps);
  return wired.core;
}

/** The process's core, wired with the production dependencies if start-up has not done it. */
export function gatewayCore(): GatewayCore {
  return wired.core ?? wireGateway();
}
