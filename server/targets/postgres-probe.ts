/** "Test connection" for PostgreSQL targets: connect with the gateway's credentials and run SELECT 1. */
import "server-only";
import postgres from "postgres";
import type { TargetSecret } from "@/server/vault";
import { describeLoginError, describeNetworkError, type ProbeFailure } from "./describe-error";

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  username: string;
}

export type ProbeResult = { ok: true; message: string; serverVersion?: string } | ProbeFailure;

export async function probePostgres(target: PostgresTarget, secret: TargetSecret): Promise<ProbeResult> {
  const sql = postgres({
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.username,
    password: secret.password ?? "",
    max: 1,
    connect_timeout: 8,
    idle_timeout: 1,
    onnotice: () => {},
    prepare: false,
  });
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    return {
      ok: true,
      message: `Connected to PostgreSQL ${row?.version ?? ""} as ${target.username}.`.trim(),
      serverVersion: row?.version,
    };
  } catch (err) {
    const network = describeNetworkError(err, target.host, target.port);
    if (network) return network;
    const login = describeLoginError(err, target);
    if (login) return login;
    return { ok: false, stage: "unknown", message: `PostgreSQL answered: ${(err as Error).message}` };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
