import { actorOf } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { endNativeSession } from "@/server/listeners";

/** Ends a live native (psql, driver) session; its client is closed at once, told who ended it. */
export const DELETE = withAuth({ permission: "connections:manage" }, async ({ principal, params }) => {
  await endNativeSession(actorOf(principal), params.id ?? "");
  return { ok: true };
});
