// How the session pages write times and durations (server and client components share these).

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 04 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "2026-11-23 19:35:02" in UTC, as the audit log writes times. */
export function formatTime(iso: string | Date): string {
  const text = typeof iso === "string" ? iso : iso.toISOString();
  return text.replace("T", " ").slice(0, 19);
}

/** Player clock: "1:05.3" (minutes:seconds), "1:02:05.3" past an hour. */
export function formatClock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds - h * 3600) / 60);
  const s = (seconds - h * 3600 - m * 60).toFixed(1).padStart(4, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A time typed into the player ("1:02:03", "12:05", "75", "1:05.5") in seconds; undefined if it is not one. */
export function parseClock(text: string): number | undefined {
  const parts = text.trim().split(":");
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return undefined;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}
