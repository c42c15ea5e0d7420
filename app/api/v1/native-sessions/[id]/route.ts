import { withAuth } from "@/server/http/route";
import { endNativeSession } from "@/server/listeners";
import { actorOf } from "@/server/principal";
import { waitForSessionEnd } from "@/server/recording";

/**
 * Ends a live native (psql, driver) session; its client is closed at once, told who ended it. Replies once the
 * end is recorded (`ended`), or after 5 s with `ended: false` if the process holding it has not recorded it yet.
 */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const sessionId = params.id ?? "";
  await endNativeSession(actorOf(principal), sessionId);
  return { ok: true, ended: await waitForSessionEnd(sessionId) };
});
