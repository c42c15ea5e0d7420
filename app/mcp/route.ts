// The MCP endpoint for agents (Streamable HTTP). Authentication and errors are handled in handleMcpRequest,
// which answers 401 JSON without a valid bearer token.
import { handleMcpRequest } from "@/server/mcp";

export const dynamic = "force-dynamic";

export const GET = (request: Request) => handleMcpRequest(request);
export const POST = (request: Request) => handleMcpRequest(request);
export const DELETE = (request: Request) => handleMcpRequest(request);
