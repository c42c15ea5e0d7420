/**
 * WebSocket endpoints served beside Next.js by the custom server (terminals, live inbox updates): the
 * authenticated upgrade and the path registry (./sockets.ts).
 */
import "server-only";

export { handleUpgrade, registerSocketHandler, SESSION_ENDED_CLOSE, type SocketHandler } from "./sockets";
