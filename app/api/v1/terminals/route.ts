import { withAuth } from "@/server/http/route";
import { listLiveTerminals } from "@/server/terminal";

/** Live terminal sessions on this gateway process. */
export const GET = withAuth({ permission: "audit:read" }, async () => ({ terminals: listLiveTerminals() }));
