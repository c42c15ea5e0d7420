// A session with its events and masked results (its own principal, or audit:read). `Prefer: wait=N` (≤ 60 s)
// answers once a statement held in it is settled (decided, and run when approved), or after N s.
import { readSessionWaiting } from "@/server/http/long-poll";
import { preferredWaitSeconds, withPreferenceApplied } from "@/server/http/prefer";
import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params, request }) => {
  const wait = preferredWaitSeconds(request);
  const found = await readSessionWaiting(principal, params.id ?? "", wait, request.signal);
  return withPreferenceApplied(Response.json(found), wait);
});
