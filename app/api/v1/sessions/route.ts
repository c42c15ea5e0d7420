import { hasPermission } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { listSessions } from "@/server/recording";

/** Sessions: admins and auditors see all; others see their own. */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal }) => ({
  sessions: await listSessions(hasPermission(principal, "audit:read") ? {} : { principalId: principal.id }),
}));
