import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";
import { endLiveTerminal } from "@/server/terminal";

/** Ends a live terminal session; its user sees who ended it. */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  await endLiveTerminal(actorOf(principal), params.id ?? "");
  return { ok: true };
});
