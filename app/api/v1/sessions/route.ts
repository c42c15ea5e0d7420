// GET /api/v1/sessions: one page of sessions matching the query-string filters (user, connection, kind, channel,
// from, to, decision, q, column, page). Members see their own; audit:read sees all.

import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";
import { parseSessionFilters, querySessions } from "@/server/recording";

export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal, request }) =>
  querySessions(principal, parseSessionFilters(new URL(request.url).searchParams)),
);
