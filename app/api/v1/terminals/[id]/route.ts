import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { waitForSessionEnd } from "@/server/recording";
import { endLiveTerminal } from "@/server/terminal";

/**
 * Ends a live terminal session; its user sees who ended it. Replies once the end is recorded (`ended`), or after
 * 5 s with `ended: false` if the process holding it has not recorded it yet.
 */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  const sessionId = params.id ?? "";
  await endLiveTerminal(actorOf(principal), sessionId);
  return { ok: true, ended: await waitForSessionEnd(sessionId) };
});
