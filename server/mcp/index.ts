/** MCP: the gateway as a tool server for AI agents (same tokens, pipeline and recording as the API). */
import "server-only";

export { handleMcpRequest } from "./handler";
export { createMcpServer } from "./tools";
