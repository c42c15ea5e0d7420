// OAuth 2.0 token endpoint (client credentials): a service account's client secret buys a short-lived access
// token. Public by necessity (the client secret is the credential); errors follow RFC 6749 §5.2.
import { handleTokenRequest } from "@/server/auth";
import { withoutAuth } from "@/server/http/route";

export const POST = withoutAuth({}, async ({ request }) => handleTokenRequest(request));
