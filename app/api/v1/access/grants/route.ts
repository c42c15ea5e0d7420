import { z } from "zod";
import { listGrants, requestGrant, requestGrantSchema } from "@/server/grants";
import { withAuth } from "@/server/http/route";

const scopes = z.enum(["mine", "all"]);

/** `?scope=mine` (default): my access grants; `all`: everyone's (audit:read). */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal, request }) => {
  const scope = scopes.safeParse(new URL(request.url).searchParams.get("scope") ?? "mine");
  if (!scope.success)
    return Response.json(
      { error: { code: "bad_request", message: "scope is mine or all" } },
      { status: 400 },
    );
  return { grants: await listGrants(principal, scope.data) };
});

/** Asks for time-boxed access to a connection: { connection, durationMinutes (15..1440), reason }. */
export const POST = withAuth(
  { permission: "connections:use", body: requestGrantSchema },
  async ({ principal, body }) => ({ grant: await requestGrant(principal, body) }),
);
