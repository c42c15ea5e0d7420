// SCIM 2.0 (RFC 7644) for identity providers: authenticated by a SCIM token inside handleScimRequest, not by
// withAuth (an API token or a person's cookie opens nothing here). Each method is a one-line hand-off.
import { handleScimRequest } from "@/server/scim";

type Context = { params: Promise<{ path?: string[] }> };
const serve = async (request: Request, context: Context) =>
  handleScimRequest(request, (await context.params).path ?? []);

export const GET = serve;
export const POST = serve;
export const PUT = serve;
export const PATCH = serve;
export const DELETE = serve;
