/**
 * How an approved review runs: each channel registers, at start-up, a runner for the channels it serves (the SQL
 * channel for "editor", "api", "mcp", "native"; the terminal for its command lines). Approvals emits "approved"
 * by calling the runner of the review's channel, and knows no channel by name. A channel with no runner in this
 * process cannot run what was approved: the review fails with that reason (fail closed).
 * Kept per process (processSingleton): the custom server and Next's bundle load this module separately, and a
 * decision taken through either must find the runners the start-up registered.
 */
import "server-only";
import type { Review } from "@/db/schema";
import type { Principal } from "@/server/principal";
import { processSingleton } from "@/server/singleton";

/**
 * Runs an approved review for its requester: "executed" or "failed" once it ran here, or "handed_over" when
 * the channel sends it later itself (a live terminal) and then calls finishApprovedReview. A GatewayError thrown
 * fails the review with its message, recorded in the requester's session.
 */
export type ApprovedRunner = (approved: {
  review: Review;
  requester: Principal;
}) => Promise<"executed" | "failed" | "handed_over">;

const runners = processSingleton("approvedRunners", () => new Map<string, ApprovedRunner>());

/** Registers how a channel runs what was approved; registering a channel again replaces its runner. */
export function registerApprovedRunner(channels: readonly string[], runner: ApprovedRunner): void {
  for (const channel of channels) runners.set(channel, runner);
}

export function approvedRunnerFor(channel: string): ApprovedRunner | undefined {
  return runners.get(channel);
}
