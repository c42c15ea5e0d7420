import { liftRevocation } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Gives back the group path a revoke denied (admins). */
export const POST = withAuth({ permission: "users:manage" }, async ({ principal, params }) =>
  liftRevocation(principal, params.id ?? ""),
);
