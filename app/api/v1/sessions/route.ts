// GET /api/v1/sessions: one page of sessions matching the query-string filters (user, connection, kind, channel,
// from, to, decision, q, column, page). Members see their own; audit:read sees all.
import { withAuth } from "@/server/http/route";
import { parseSessionFilters, querySessions } from "@/server/recording";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal, request }) =>
  querySessions(principal, parseSessionFilters(new URL(request.url).searchParams)),
);
