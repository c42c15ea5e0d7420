import { exportAuditEvents, parseAuditFilters, queryAuditEvents } from "@/server/audit";
import { badRequest } from "@/server/errors";
import { fileResponse, withAuth } from "@/server/http/route";

/**
 * Audit events matching the filters (actor, kind, action, target, from, to): a page of 50, newest first, or with
 * format=csv / format=json the whole filtered set as a file, oldest first.
 */
export const GET = withAuth({ permission: "audit:read" }, async ({ request }) => {
  const params = new URL(request.url).searchParams;
  const format = params.get("format");
  params.delete("format");
  const filters = parseAuditFilters(params);
  if (format === "csv" || format === "json") return fileResponse(await exportAuditEvents(filters, format));
  if (format) throw badRequest('format must be "csv" or "json"');
  return queryAuditEvents(filters);
});
