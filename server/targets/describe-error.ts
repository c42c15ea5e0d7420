/**
 * Turns driver and network errors into sentences a person can act on. The messages name the host, port,
 * user and database, never a credential. Not responsible for errors of statements (those are the target's
 * own words, passed through masking by the pipeline).
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

export interface LoginTarget {
  host: string;
  database: string;
  username: string;
}

/**
 * A PostgreSQL target refusing the gateway's login (the server's errors while a session starts: no such user,
 * wrong password, no such database, no right to connect, too many connections). PostgreSQL's own message is
 * not repeated: it names no credential either, but the words here say what to check.
 */
export function describeLoginError(err: unknown, target: LoginTarget): ProbeFailure | null {
  switch ((err as { code?: string } | null)?.code) {
    case "28P01":
    case "28000":
      return {
        ok: false,
        stage: "auth",
        message: `PostgreSQL refused the credentials for user ${target.username}. Check the username and password.`,
      };
    case "SASL_SIGNATURE_MISMATCH":
      return { ok: false, stage: "auth", message: "The server's authentication signature did not match." };
    case "AUTH_TYPE_NOT_IMPLEMENTED":
      return {
        ok: false,
        stage: "auth",
        message: `${target.host} asks for an authentication method the gateway does not support (use scram-sha-256 or md5).`,
      };
    case "3D000":
      return {
        ok: false,
        stage: "database",
        message: `The database ${target.database} does not exist on ${target.host}.`,
      };
    case "42501":
      return {
        ok: false,
        stage: "auth",
        message: `User ${target.username} may not connect to the database ${target.database} on ${target.host}.`,
      };
    case "53300":
      return {
        ok: false,
        stage: "network",
        message: `${target.host} has too many connections and refused a new one. Try again shortly.`,
      };
    case "57P03":
      return { ok: false, stage: "network", message: `${target.host} is starting up or shutting down.` };
    default:
      return null;
  }
}
