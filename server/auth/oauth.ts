/**
 * The OAuth 2.0 token endpoint's HTTP side (RFC 6749 §4.4 client credentials, errors per §5.2): reads a
 * form-encoded or JSON body, takes the client's credentials from HTTP Basic or the body (never both), rate
 * limits failed attempts per client id, and answers `{access_token, token_type, expires_in}` with no-store.
 * It authenticates by client secret, so it does not go through withAuth.
 */
import "server-only";
import { failedClientAttempts, takeTokenRequest } from "@/server/http/rate-limit";
import { requestText } from "@/server/http/request-body";
import { mintAccessToken, OAuthError } from "./client-secrets";
import { tokenRequestSchema } from "./schema";

const MAX_BODY_BYTES = 64 * 1024;
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

function oauthError(err: OAuthError): Response {
  const body = { error: err.error, error_description: err.message };
  if (err.error === "invalid_client") {
    return reply(401, body, { "www-authenticate": 'Basic realm="portcullis", charset="UTF-8"' });
  }
  return reply(400, body);
}

/** Form-encoding per RFC 6749 §2.3.1: "+" is a space, then percent-decoding. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    throw new OAuthError("invalid_request", "the client credentials are not properly encoded");
  }
}

/** Parameters of the body; a parameter sent twice is an error, one sent empty counts as omitted (§3.1). */
async function readParameters(request: Request): Promise<Map<string, string>> {
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  // Over the limit: a 413 in the API's error shape (withoutAuth answers it), with at most the limit read.
  const text = await requestText(request, MAX_BODY_BYTES);
  const pairs: [string, unknown][] = [];
  if (text.length === 0) {
    // no body: everything missing is reported below
  } else if (type.startsWith("application/x-www-form-urlencoded")) {
    pairs.push(...new URLSearchParams(text).entries());
  } else if (/^application\/(.+\+)?json\b/.test(type)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OAuthError("invalid_request", "the body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new OAuthError("invalid_request", "the body must be a JSON object");
    }
    pairs.push(...Object.entries(parsed));
  } else {
    throw new OAuthError(
      "invalid_request",
      "send the parameters as application/x-www-form-urlencoded (or JSON)",
    );
  }
  const params = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (typeof value !== "string") throw new OAuthError("invalid_request", `${name} must be a string`);
    if (params.has(name)) throw new OAuthError("invalid_request", `${name} is sent more than once`);
    if (value !== "") params.set(name, value);
  }
  return params;
}

function clientCredentials(request: Request, params: Map<string, string>) {
  const authorization = request.headers.get("authorization");
  const inBody = params.has("client_id") || params.has("client_secret");
  if (authorization) {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw new OAuthError("invalid_client", "use HTTP Basic with the client id and secret");
    if (inBody) {
      throw new OAuthError(
        "invalid_request",
        "send the client credentials by HTTP Basic or in the body, not both",
      );
    }
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OAuthError("invalid_client", "HTTP Basic needs client_id:client_secret");
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  }
  const clientId = params.get("client_id");
  const clientSecret = params.get("client_secret");
  if (!clientId || !clientSecret) {
    throw new OAuthError(
      "invalid_client",
      "client authentication is required: HTTP Basic, or client_id and client_secret in the body",
    );
  }
  return { clientId, clientSecret };
}

function tooMany(retryAfterSeconds: number): Response {
  return reply(
    429,
    {
      error: "rate_limited",
      error_description: `too many token requests for this client; retry in ${retryAfterSeconds} s`,
    },
    { "retry-after": String(retryAfterSeconds) },
  );
}

/** POST /api/v1/oauth/token */
export async function handleTokenRequest(request: Request): Promise<Response> {
  let clientId: string | undefined;
  try {
    const params = await readParameters(request);
    const grantType = params.get("grant_type");
    if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
    const credentials = clientCredentials(request, params);
    clientId = credentials.clientId.slice(0, 200);
    const blocked = failedClientAttempts().peek(clientId);
    if (!blocked.allowed) return tooMany(blocked.retryAfterSeconds);
    // The same schema documents the endpoint in the OpenAPI document.
    const parsed = tokenRequestSchema.safeParse(Object.fromEntries(params));
    if (!parsed.success) {
      throw grantType !== "client_credentials"
        ? new OAuthError("unsupported_grant_type", "this endpoint issues tokens for client_credentials only")
        : new OAuthError("invalid_request", parsed.error.issues[0]?.message ?? "malformed request");
    }
    const limit = takeTokenRequest(`oauth-client:${clientId}`);
    if (!limit.allowed) return tooMany(limit.retryAfterSeconds);
    return reply(
      200,
      await mintAccessToken(credentials.clientId, credentials.clientSecret, parsed.data.scope),
    );
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    if (err.error === "invalid_client") failedClientAttempts().take(clientId ?? "(none)");
    return oauthError(err);
  }
}
