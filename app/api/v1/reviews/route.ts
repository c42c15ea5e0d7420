import { z } from "zod";
import { listReviews, parseReviewFilters } from "@/server/approvals";
import { badRequest } from "@/server/errors";
import { withAuth } from "@/server/http/route";

const scopes = z.enum(["inbox", "history", "mine"]);

/**
 * `?scope=inbox` (default): pending reviews I may decide; `history`: decided ones; `mine`: my requests.
 * History and mine take filters: state, connection, requester, text, from, to (YYYY-MM-DD), decidedByMe=1.
 */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, request }) => {
  const params = new URL(request.url).searchParams;
  const scope = scopes.safeParse(params.get("scope") ?? "inbox");
  if (!scope.success) throw badRequest("scope is inbox, history or mine");
  params.delete("scope");
  const filters = parseReviewFilters(params);
  if (!filters.success) throw filters.error;
  return { reviews: await listReviews(principal, scope.data, filters.data) };
});
