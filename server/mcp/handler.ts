/**
 * The `/mcp` endpoint: MCP over Streamable HTTP in stateless mode (a fresh server and transport per request,
 * JSON replies), authenticated with the same bearer tokens as the API and rate limited per token. It does
 * not use withAuth because it lives outside app/api, so it answers 401/429 in the same JSON shape itself, and
 * reads the body with the API's limit before the SDK's transport sees it (413 past it).
 */

const MAX_BODY_BYTES = 1024 * 1024;

import "server-only";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { principalFromRequest } from "@/server/auth";
import { refuseCrossSiteCookieRequest } from "@/server/http/cross-site";
import { takeTokenRequest } from "@/server/http/rate-limit";
import { readBodyLimited } from "@/server/http/request-body";
import { errorResponse, rateLimitedResponse, toErrorResponse } from "@/server/http/route";
import { hasPermission, rateLimitKey } from "@/server/principal";
import { createMcpServer } from "./tools";

export async function handleMcpRequest(request: Request): Promise<Response> {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) {
      return errorResponse(
        401,
        "unauthenticated",
        request.headers.get("authorization")
          ? "the bearer token is unknown, revoked or expired"
          : "send Authorization: Bearer <token>",
      );
    }
    if (principal.via === "session") refuseCrossSiteCookieRequest(request);
    if (principal.via === "token") {
      const limit = takeTokenRequest(rateLimitKey(principal));
      if (!limit.allowed) return rateLimitedResponse(limit.retryAfterSeconds);
    }
    if (!hasPermission(principal, "connections:use")) {
      return errorResponse(403, "forbidden", "missing permission connections:use");
    }
    if (request.method === "GET") {
      // Stateless: no server-initiated stream to offer; the spec lets a server answer 405 here.
      const response = errorResponse(
        405,
        "method_not_allowed",
        "this MCP endpoint is stateless: POST requests",
      );
      response.headers.set("Allow", "POST, DELETE");
      return response;
    }
    const bounded =
      request.method === "POST"
        ? new Request(request.url, {
            method: "POST",
            headers: request.headers,
            body: new Uint8Array(await readBodyLimited(request, MAX_BODY_BYTES)),
            signal: request.signal,
          })
        : request;
    const server = createMcpServer(principal, request.signal);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(bounded);
    } finally {
      await server.close();
    }
  } catch (err) {
    return toErrorResponse(err);
  }
}
