import { decideItem, decideItemSchema } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Keep or revoke one item, with a comment; a revoke takes effect at once. */
export const POST = withAuth(
  { permission: "connections:use", body: decideItemSchema },
  async ({ principal, params, body }) => ({
    item: await decideItem(principal, params.id ?? "", params.itemId ?? "", body),
  }),
);
