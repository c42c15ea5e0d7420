/**
 * The gateway core: the stages every channel shares, written once. identify + authorize (the caller's principal
 * may use this connection, of this kind), decide (the rules, read fail-closed), hold (a review bound to the exact
 * input, recorded in the caller's session), record (write-ahead session events, fail-closed), and the masking
 * settings a channel masks with (read fail-closed).
 * Fail closed: a stage that cannot read what it needs (rules, masking settings, the recorder) refuses with a
 * GatewayError naming what failed; nothing is passed through. Refusals the stores give on purpose (a session
 * that is not the caller's) pass unchanged.
 * Built by createGatewayCore from its dependencies, so a test can make any one of them fail. Not responsible for
 * inspecting, executing or masking an input: a channel (server/pipeline.ts for SQL, the terminal's command
 * lines) supplies those, and registers with approvals/ how it runs an approved input.
 */
import "server-only";
import type { ReviewRequest } from "@/server/approvals";
import type { ConnectionView } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import type { MaskingConfig } from "@/server/masking";
import type { CommandRule, PolicyRule } from "@/server/policy";
import type { Principal } from "@/server/principal";
import type { SessionCounters } from "@/server/recording";

export type SessionChannel = "editor" | "api" | "mcp" | "native" | "terminal";
export type SessionKind = "sql" | "terminal";

/** The session store as the core uses it (server/recording in the running console). */
export interface SessionRecorder {
  startSession(
    principal: Principal,
    connection: ConnectionView,
    kind: SessionKind,
    channel: SessionChannel,
  ): Promise<string>;
  startSessionWithEvent(
    principal: Principal,
    connection: ConnectionView,
    kind: SessionKind,
    channel: SessionChannel,
    event: { type: string; data: Record<string, unknown>; counters?: SessionCounters },
  ): Promise<{ sessionId: string; eventId: number }>;
  resumeSession(principal: Principal, sessionId: string, connectionId: string): Promise<string>;
  appendSessionEvent(
    sessionId: string,
    type: string,
    data: Record<string, unknown>,
    counters?: SessionCounters,
    resumeBy?: { principal: Principal; connectionId: string },
  ): Promise<number>;
}

/** What a held input becomes: a review bound to this exact input, in this session (server/approvals). */
export type HoldRequest = ReviewRequest;

export interface GatewayDeps {
  /** identify + authorize: the connection if this principal may use it (else a GatewayError). */
  connections: { forUse(principal: Principal, name: string): Promise<ConnectionView> };
  /** The SQL rules, read per request (a change applies to the next one). */
  rules: { sql(): Promise<PolicyRule[]>; commands(): Promise<CommandRule[]> };
  masking: { configFor(connectionId: string): Promise<MaskingConfig> };
  recorder: SessionRecorder;
  reviews: { create(request: HoldRequest): Promise<string> };
  /** Milliseconds on a monotonic clock, for durations. */
  clock: { now(): number };
}

export const REFUSALS = {
  rules: "the policy store cannot be read, so nothing runs (fail closed)",
  masking: "the masking settings cannot be read, so nothing runs (fail closed)",
  recorder: "the recorder cannot store the session, so nothing runs (fail closed)",
  recorderAfter: "the recorder cannot store the result, so it is not returned (fail closed)",
  review: "the review could not be created, so nothing runs (fail closed)",
} as const;

export interface GatewayCore {
  readonly clock: GatewayDeps["clock"];
  /** identify + authorize: the connection, refused unless it is of the kind this channel serves. */
  authorize(
    principal: Principal,
    name: string,
    kind: ConnectionView["kind"],
    wrongKind: string,
  ): Promise<ConnectionView>;
  /** The SQL rules, or an "unavailable" refusal. */
  sqlRules(): Promise<PolicyRule[]>;
  /** The terminal's command rules, under the same fail-closed refusal. */
  commandRules(): Promise<CommandRule[]>;
  /** The masking settings of a connection, or an "unavailable" refusal. */
  maskingFor(connection: ConnectionView): Promise<MaskingConfig>;
  /** The recorder, each call failing closed: `after` says the refusal is for a result already computed. */
  record: SessionRecorder & { after: SessionRecorder };
  /**
   * hold: creates the review, then records the held input in the caller's session (`recordHeld`), so a held
   * statement and a held command line are the same hold. A review that cannot be created refuses.
   */
  hold(request: HoldRequest, recordHeld: (reviewId: string) => Promise<unknown>): Promise<string>;
}

/** Runs `step`; a failure that is not a deliberate refusal becomes `refusal` (and is logged without data). */
async function failClosed<T>(what: string, refusal: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    // Only what kind of failure: a store's message can quote its address or credentials.
    console.error(`[portcullis] ${what} failed (${err instanceof Error ? err.name : typeof err})`);
    throw new GatewayError("unavailable", refusal);
  }
}

function failClosedRecorder(recorder: SessionRecorder, refusal: string): SessionRecorder {
  return {
    startSession: (...args) => failClosed("recording", refusal, () => recorder.startSession(...args)),
    startSessionWithEvent: (...args) =>
      failClosed("recording", refusal, () => recorder.startSessionWithEvent(...args)),
    resumeSession: (...args) => failClosed("recording", refusal, () => recorder.resumeSession(...args)),
    appendSessionEvent: (...args) =>
      failClosed("recording", refusal, () => recorder.appendSessionEvent(...args)),
  };
}

export function createGatewayCore(deps: GatewayDeps): GatewayCore {
  const record = Object.assign(failClosedRecorder(deps.recorder, REFUSALS.recorder), {
    after: failClosedRecorder(deps.recorder, REFUSALS.recorderAfter),
  });
  return {
    clock: deps.clock,
    async authorize(principal, name, kind, wrongKind) {
      const connection = await deps.connections.forUse(principal, name);
      if (connection.kind !== kind) throw new GatewayError("bad_request", wrongKind);
      return connection;
    },
    sqlRules: () => failClosed("reading the rules", REFUSALS.rules, () => deps.rules.sql()),
    commandRules: () => failClosed("reading the rules", REFUSALS.rules, () => deps.rules.commands()),
    maskingFor: (connection) =>
      failClosed("reading the masking settings", REFUSALS.masking, () =>
        deps.masking.configFor(connection.id),
      ),
    record,
    async hold(request, recordHeld) {
      const reviewId = await failClosed("creating a review", REFUSALS.review, () =>
        deps.reviews.create(request),
      );
      await recordHeld(reviewId);
      return reviewId;
    },
  };
}
