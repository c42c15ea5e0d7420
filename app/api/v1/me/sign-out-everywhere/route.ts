import { endSessions } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

/** Ends every console session of the caller, this one included. */
export const POST = withAuth({ permission: "connections:use" }, async ({ principal }) => {
  await endSessions(actorOf(principal), principal.id);
  return { ok: true };
});
