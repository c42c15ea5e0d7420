/**
 * Turns driver and network errors into sentences a person can act on. The messages name the host, port,
 * user and database, never a credential.
 */
import "server-only";

export interface ProbeFailure {
  ok: false;
  stage: "dns" | "network" | "tls" | "auth" | "database" | "host_key" | "timeout" | "unknown";
  message: string;
}

export function describeNetworkError(err: unknown, host: string, port: number): ProbeFailure | null {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return {
        ok: false,
        stage: "dns",
        message: `The host name ${host} could not be resolved (DNS). Check the spelling.`,
      };
    case "ECONNREFUSED":
      return {
        ok: false,
        stage: "network",
        message: `Connection refused by ${host}:${port}. Is the server running and listening on that port?`,
      };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return {
        ok: false,
        stage: "network",
        message: `${host} cannot be reached from the gateway (no route).`,
      };
    case "ETIMEDOUT":
    case "CONNECT_TIMEOUT":
      return {
        ok: false,
        stage: "timeout",
        message: `No answer from ${host}:${port} in time. A firewall may be dropping the connection.`,
      };
    case "ECONNRESET":
      return {
        ok: false,
        stage: "network",
        message: `${host}:${port} closed the connection during the handshake.`,
      };
    default:
      return null;
  }
}
