/**
 * How an approved terminal command line runs: by the live terminal that holds it (terminal-session.ts sends its
 * Enter once the line on screen still hashes to what was approved, then finishes the review). The runner
 * registered with approvals only hands the review over; when that terminal session is no longer live nothing
 * can send the line, and the review fails at once with a reason the approver reads.
 * Not responsible for the hold itself (the gateway core's, as for a held statement).
 */
import "server-only";
import { eq } from "drizzle-orm";
import { sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { registerApprovedRunner } from "@/server/approvals";
import { GatewayError } from "@/server/errors";
import { isTerminalLive } from "./presence";

/** The channel of reviews held by browser terminals (their input is one command line). */
export const TERMINAL_CHANNEL = "terminal";

/** Registers the terminal's runner with approvals (start-up; also when a terminal session module loads). */
export function registerTerminalChannel(): void {
  registerApprovedRunner([TERMINAL_CHANNEL], async ({ review }) => {
    if (review.sessionId && (await isLiveTerminal(review.sessionId))) return "handed_over";
    throw new GatewayError("conflict", "the terminal session ended before the approval; nothing was run");
  });
}

async function isLiveTerminal(sessionId: string): Promise<boolean> {
  const db = await getDb();
  const [session] = await db
    .select({ state: sessions.state })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  return session?.state === "live" && (await isTerminalLive(sessionId));
}
