import { withAuth } from "@/server/http/route";
import { listLiveTerminals } from "@/server/terminal";

/** Live terminal sessions on every console process sharing the store. */
export const GET = withAuth({ permission: "audit:read" }, async () => ({
  terminals: await listLiveTerminals(),
}));
