import { withAuth } from "@/server/http/route";
import { endNativeSession } from "@/server/listeners";
import { actorOf } from "@/server/principal";

/** Ends a live native (psql, driver) session; its client is closed at once, told who ended it. */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  await endNativeSession(actorOf(principal), params.id ?? "");
  return { ok: true };
});
