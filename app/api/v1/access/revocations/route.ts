import { listRevocations } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Access taken back in access reviews and not lifted. */
export const GET = withAuth({ permission: "audit:read" }, async ({ principal }) => ({
  revocations: await listRevocations(principal),
}));
