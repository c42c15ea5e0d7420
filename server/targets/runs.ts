/**
 * Statements in flight, by the run id the caller chose, so that the caller (and only the caller) can cancel.
 * In-process: a cancel reaches the replica that runs the statement (cross-replica cancel rides on NOTIFY later).
 */
import "server-only";
import { conflict } from "@/server/errors";
import { processSingleton } from "@/server/singleton";

interface Run {
  principalId: string;
  cancel?: () => void;
  cancelled: boolean;
}

const runs = processSingleton("runs", () => new Map<string, Run>());

export function beginRun(runId: string, principalId: string) {
  if (runs.has(runId)) throw conflict("a run with that id is already in flight");
  const run: Run = { principalId, cancelled: false };
  runs.set(runId, run);
  return {
    setCancel(cancel: () => void) {
      run.cancel = cancel;
      if (run.cancelled) cancel();
    },
    end() {
      runs.delete(runId);
    },
  };
}

/** Cancels the caller's own run; false when nothing of theirs with that id is running. */
export function cancelRun(runId: string, principalId: string): boolean {
  const run = runs.get(runId);
  if (!run || run.principalId !== principalId) return false;
  run.cancelled = true;
  run.cancel?.();
  return true;
}
