import { listAuditEvents } from "@/server/audit";
import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "audit:read" }, async () => ({ events: await listAuditEvents() }));
