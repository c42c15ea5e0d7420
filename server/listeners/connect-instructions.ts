/**
 * What the Connect dialog shows a person for a native client: the listener's address as clients reach it, a
 * ready `psql` command and a connection URI (sslmode=require, dbname = the connection's name, user = the
 * person's email). Neither holds the password: psql asks for it (or reads PGPASSWORD), so it stays out of shell
 * history and of anything the URI is pasted into. Not responsible for the credential itself (server/auth).
 */
import "server-only";
import type { PgListenConfig } from "@/server/config";

export interface ConnectInstructions {
  host: string;
  port: number;
  dbname: string;
  user: string;
  psql: string;
  uri: string;
}

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/** The host a client dials: the bind address, unless it is a wildcard, then the console's public host name. */
export function listenerHost(config: Pick<PgListenConfig, "host">, publicUrl: string): string {
  return WILDCARDS.has(config.host) ? new URL(publicUrl).hostname : config.host;
}

/** Single-quoted for a POSIX shell (a quote inside becomes '\''). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function connectInstructions(input: {
  config: Pick<PgListenConfig, "host" | "port">;
  publicUrl: string;
  connectionName: string;
  email: string;
}): ConnectInstructions {
  const host = listenerHost(input.config, input.publicUrl);
  const { port } = input.config;
  const hostInUri = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const uri =
    `postgresql://${encodeURIComponent(input.email)}@${hostInUri}:${port}/` +
    `${encodeURIComponent(input.connectionName)}?sslmode=require`;
  return {
    host,
    port,
    dbname: input.connectionName,
    user: input.email,
    psql: `psql ${shellQuote(uri)}`,
    uri,
  };
}
