/** "Test connection" for PostgreSQL targets: connect with the gateway's credentials and run SELECT 1. */
import "server-only";
import postgres from "postgres";
import type { TargetSecret } from "@/server/connections/vault";
import { describeNetworkError, type ProbeFailure } from "./describe-error";

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
    const code = (err as { code?: string }).code;
    if (code === "28P01" || code === "28000") {
      return {
        ok: false,
        stage: "auth",
        message: `PostgreSQL refused the credentials for user ${target.username}. Check the username and password.`,
      };
    }
    if (code === "3D000") {
      return {
        ok: false,
        stage: "database",
        message: `The database ${target.database} does not exist on ${target.host}.`,
      };
    }
    if (code === "SASL_SIGNATURE_MISMATCH") {
      return { ok: false, stage: "auth", message: "The server's authentication signature did not match." };
    }
    return { ok: false, stage: "unknown", message: `PostgreSQL answered: ${(err as Error).message}` };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
