/**
 * The `Prefer: wait=N` request preference (RFC 7240 §4.3) for long polls: how long a caller is willing to wait,
 * capped at 60 s, and the `Preference-Applied` header that says the gateway honoured it.
 */
import "server-only";

export const MAX_WAIT_SECONDS = 60;

/** Seconds to wait (1..60), or undefined when the request has no usable `wait` preference. */
export function preferredWaitSeconds(request: Request): number | undefined {
  const header = request.headers.get("prefer");
  if (!header) return undefined;
  for (const preference of header.split(",")) {
    const [token, ...rest] = preference.split(";")[0]?.split("=") ?? [];
    if (token?.trim().toLowerCase() !== "wait") continue;
    const value = rest
      .join("=")
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (!/^\d{1,9}$/.test(value)) return undefined;
    const seconds = Number(value);
    return seconds === 0 ? undefined : Math.min(seconds, MAX_WAIT_SECONDS);
  }
  return undefined;
}

/** Echoes the applied preference (and that the reply depends on Prefer) on a response. */
export function withPreferenceApplied(response: Response, waitSeconds: number | undefined): Response {
  if (waitSeconds === undefined) return response;
  response.headers.set("Preference-Applied", `wait=${waitSeconds}`);
  response.headers.append("Vary", "Prefer");
  return response;
}
