/**
 * LISTEN/NOTIFY through the gateway: a notification the target sends a native client's session (the client's
 * LISTEN ran there) is masked as text the gateway returns is (the connection's detectors: a payload is free text,
 * with no column to trace), recorded in the client's session before the client can see it (the result's
 * write-ahead rule), and then passed on as a NotificationResponse through the NoticeGate: at once when the client
 * is idle, else right after its next ReadyForQuery, as PostgreSQL itself delivers them between exchanges. In the
 * order the target sent them. One that cannot be recorded (or masked) is never passed on, and the client is
 * terminated rather than left listening for what it will not get.
 * Not responsible for LISTEN, UNLISTEN or NOTIFY themselves (statements, decided and run like any other) or for
 * when the target sends (PostgreSQL sends a notification between transactions of the listening session).
 */
import "server-only";
import { maskText } from "@/server/masking";
import { maskingConfigFor } from "@/server/masking-config";
import { appendSessionEvent } from "@/server/recording";
import { notificationResponse } from "./wire";

export interface NotificationRelay {
  sessionId: string;
  connectionId: string;
  /** the process id the client was given in BackendKeyData */
  processId: number;
  /** passes a message on to the client (NoticeGate.notify) */
  deliver: (message: Buffer) => void;
  /** ends the client when a notification cannot be recorded */
  fail: (message: string) => void;
}

/** The handler for a pinned session's notifications (PinnedSession.onNotification). */
export function relayNotifications(o: NotificationRelay): (channel: string, payload: string) => void {
  let last: Promise<void> = Promise.resolve();
  let failed = false;
  return (channel, payload) => {
    last = last.then(async () => {
      if (failed) return;
      try {
        const { text, findings } = maskText(payload, await maskingConfigFor(o.connectionId));
        await appendSessionEvent(
          o.sessionId,
          "notification",
          { channel, payload: text, ...(findings.length > 0 && { maskedTypes: maskedTypes(findings) }) },
          { maskedFields: findings.length > 0 ? 1 : 0 },
        );
        o.deliver(notificationResponse(o.processId, channel, text));
      } catch {
        failed = true;
        o.fail("terminating connection: a notification from the target could not be recorded");
      }
    });
  };
}

function maskedTypes(findings: readonly { type: string }[]): string[] {
  return [...new Set(findings.map((f) => f.type))];
}
