"use client";

// A spinner with the time a run has taken so far, ticking ten times a second while it is shown.
import { useEffect, useState } from "react";
import { formatDuration } from "./cell-format";

export function RunningIndicator({ startedAt, cancelling }: { startedAt: number; cancelling: boolean }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, []);
  const elapsed = Math.max(0, now - startedAt);
  return (
    <div className="running" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>
        {cancelling ? "Cancelling…" : "Running…"}{" "}
        <span className="running-time mono">
          {elapsed < 60_000 ? `${(elapsed / 1000).toFixed(1)} s` : formatDuration(elapsed)}
        </span>
      </span>
    </div>
  );
}
