/** Runs the "Test connection" probe for a stored connection and pins an SSH host key on first use. */
import "server-only";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { probePostgres } from "@/server/targets/postgres-probe";
import { probeSsh } from "@/server/targets/ssh-probe";
import { openConnectionSecret, pinHostKey } from "./service";

export async function testConnection(actor: Actor, connectionId: string) {
  const { row, secret } = await openConnectionSecret(connectionId);
  if (row.kind === "postgres") {
    const result = await probePostgres(
      { host: row.host, port: row.port, database: row.database ?? "postgres", username: row.username },
      secret,
    );
    await recordAuditEvent(actor, "connection.test", row.name, {
      ok: result.ok,
      stage: result.ok ? "ok" : result.stage,
    });
    return result;
  }
  const result = await probeSsh(
    { host: row.host, port: row.port, username: row.username, hostKey: row.hostKey },
    secret,
  );
  if (result.ok && !row.hostKey && result.hostKey) {
    await pinHostKey(row.id, result.hostKey);
    result.message += ` Host key ${result.hostKey} pinned.`;
  }
  await recordAuditEvent(actor, "connection.test", row.name, {
    ok: result.ok,
    stage: result.ok ? "ok" : result.stage,
  });
  return result;
}
