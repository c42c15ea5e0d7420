import { bulkDecide, bulkDecideSchema } from "@/server/access-review";
import { withAuth } from "@/server/http/route";

/** Decides many items: the given itemIds, or every undecided item of mine flagged unused. */
export const POST = withAuth(
  { permission: "connections:use", body: bulkDecideSchema },
  async ({ principal, params, body }) => bulkDecide(principal, params.id ?? "", body),
);
