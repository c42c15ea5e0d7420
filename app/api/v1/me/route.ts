import { withAuth } from "@/server/http/route";
import { MEMBER_OR_AUDITOR_READ } from "@/server/principal";

/** Who the caller is: open to an auditor too, who uses no connection. */
export const GET = withAuth({ permission: MEMBER_OR_AUDITOR_READ }, async ({ principal }) => ({
  user: {
    id: principal.id,
    email: principal.email,
    name: principal.name,
    role: principal.role,
    kind: principal.kind,
    groups: principal.groups.map((g) => g.name),
  },
}));
