import { setServiceAccountRole, updateServiceAccountSchema } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { actorOf } from "@/server/principal";

/** Changes a service account's role; raising it to admin is audited and caps its credentials' lifetimes. */
export const PATCH = withAuth(
  { permission: "tokens:manage", body: updateServiceAccountSchema },
  async ({ principal, params, body }) =>
    setServiceAccountRole(actorOf(principal), principal, params.id ?? "", body.role),
);
