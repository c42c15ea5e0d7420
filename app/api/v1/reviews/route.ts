import { z } from "zod";
import { listReviews } from "@/server/approvals";
import { withAuth } from "@/server/http/route";

const scopes = z.enum(["inbox", "history", "mine"]);

/** `?scope=inbox` (default): pending reviews I may decide; `history`: decided ones; `mine`: my requests. */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, request }) => {
  const scope = scopes.safeParse(new URL(request.url).searchParams.get("scope") ?? "inbox");
  if (!scope.success)
    return Response.json(
      { error: { code: "bad_request", message: "scope is inbox, history or mine" } },
      { status: 400 },
    );
  return { reviews: await listReviews(principal, scope.data) };
});
