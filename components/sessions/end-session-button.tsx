"use client";

import { useState } from "react";
import { useApiAction } from "@/components/ui/use-api-action";
import { liveSessionsApi } from "@/lib/api";

/**
 * An admin's **End session** on a live native (psql, driver) or terminal session in the sessions list: asks
 * first, then ends it through the API (which replies once the end is recorded) and refreshes the list, so the
 * row shows the session ended. Not responsible for who may end it (the API checks) nor how (server/listeners,
 * server/terminal).
 */
export function EndSessionButton({
  sessionId,
  channel,
  who,
}: {
  sessionId: string;
  channel: "native" | "terminal";
  who: string;
}) {
  const { error, busy, run } = useApiAction();
  const [isEnding, setEnding] = useState(false);
  const what = channel === "native" ? "native session" : "terminal session";
  async function end() {
    const consequence =
      channel === "native"
        ? "Their client is disconnected at once (57P01) and a transaction they left open is rolled back."
        : "Their terminal closes at once.";
    if (!window.confirm(`End the ${what} of ${who}? ${consequence}`)) return;
    setEnding(true);
    const ok = await run(() =>
      channel === "native" ? liveSessionsApi.endNative(sessionId) : liveSessionsApi.endTerminal(sessionId),
    );
    if (!ok) setEnding(false);
  }
  return (
    <>
      <button
        type="button"
        className="btn small danger"
        disabled={busy || isEnding}
        onClick={() => void end()}
        aria-label={`End the ${what} of ${who}`}
      >
        {isEnding ? "Ending…" : "End session"}
      </button>
      {error && (
        <span className="small blocked" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
