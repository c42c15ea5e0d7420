import { withAuth } from "@/server/http/route";

export const GET = withAuth({ permission: "connections:use" }, async ({ principal }) => ({
  user: {
    id: principal.id,
    email: principal.email,
    name: principal.name,
    role: principal.role,
    kind: principal.kind,
    groups: principal.groups.map((g) => g.name),
  },
}));
