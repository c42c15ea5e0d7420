// A session with its events and masked results (its own principal, or audit:read), a page of events at a time:
// `?after=<event id>&limit=<n>` (default 1,000, at most 5,000); `nextAfter` in the reply when there are more.
// `Prefer: wait=N` (≤ 60 s) answers once a statement held in it is settled (decided, and run when approved), or
// after N s.

import { GatewayError } from "@/server/errors";
import { DEFAULT_EVENT_PAGE, MAX_EVENTS_PER_PAGE, readSessionWaiting } from "@/server/http/long-poll";
import { preferredWaitSeconds, withPreferenceApplied } from "@/server/http/prefer";
import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

function whole(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new GatewayError("bad_request", `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export const GET = withAuth(
  { permission: MEMBER_OR_AUDITOR_READ },
  async ({ principal, params, request }) => {
    const query = new URL(request.url).searchParams;
    const page = {
      after: whole(query, "after", DEFAULT_EVENT_PAGE.after, 0, Number.MAX_SAFE_INTEGER),
      limit: whole(query, "limit", DEFAULT_EVENT_PAGE.limit, 1, MAX_EVENTS_PER_PAGE),
    };
    const wait = preferredWaitSeconds(request);
    const found = await readSessionWaiting(principal, params.id ?? "", wait, request.signal, page);
    return withPreferenceApplied(Response.json(found), wait);
  },
);
