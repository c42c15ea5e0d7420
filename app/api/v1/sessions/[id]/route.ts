import { hasPermission } from "@/server/auth";
import { notFound } from "@/server/errors";
import { withAuth } from "@/server/http/route";
import { getSessionWithEvents } from "@/server/recording";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, params }) => {
  const found = await getSessionWithEvents(params.id ?? "");
  if (!found || (found.session.principalId !== principal.id && !hasPermission(principal, "audit:read"))) {
    throw notFound("no such session");
  }
  return found;
});
