// A review with its masked result once run. `Prefer: wait=N` (≤ 60 s) answers when it is settled or moves on.
import { readReviewWaiting } from "@/server/http/long-poll";
import { preferredWaitSeconds, withPreferenceApplied } from "@/server/http/prefer";
import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params, request }) => {
  const wait = preferredWaitSeconds(request);
  const review = await readReviewWaiting(principal, params.id ?? "", wait, request.signal);
  return withPreferenceApplied(Response.json({ review }), wait);
});
