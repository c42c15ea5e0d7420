import { endSessions } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

/** Ends every console session of a person (admins). */
export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) => {
  await endSessions(actorOf(principal), params.id ?? "");
  return { ok: true };
});
