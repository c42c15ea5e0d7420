import { setConnectionOwner, setOwnerSchema } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Sets the group that reviews a connection's access in campaigns with reviewers "owners" ({ group: null } clears it). */
export const PUT = withAuth(
  { permission: "users:manage", body: setOwnerSchema },
  async ({ principal, params, body }) => setConnectionOwner(principal, params.connection ?? "", body.group),
);
