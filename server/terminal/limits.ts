/**
 * Time limits of terminal sessions: idle timeout (no keystroke) and maximum duration. Defaults come from
 * TERMINAL_IDLE_TIMEOUT and TERMINAL_MAX_DURATION (seconds; 30 minutes and 8 hours); a connection may set
 * its own in options.terminal = { idleTimeoutSeconds, maxDurationSeconds }.
 */
import "server-only";
import { getSettings } from "@/server/config";

export interface TerminalLimits {
  idleMs: number;
  maxMs: number;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function terminalLimits(options: Record<string, unknown>): TerminalLimits {
  const own = (options.terminal ?? {}) as Record<string, unknown>;
  const defaults = getSettings().terminal;
  const idle = seconds(own.idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds;
  const max = seconds(own.maxDurationSeconds) ?? defaults.maxDurationSeconds;
  return { idleMs: idle * 1000, maxMs: max * 1000 };
}

/** Describes a duration for a notice: "30 minutes", "8 hours", "45 seconds". */
export function describeDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? "" : "s"}`;
  if (s % 60 === 0) return `${s / 60} minute${s === 60 ? "" : "s"}`;
  return `${s} second${s === 1 ? "" : "s"}`;
}
