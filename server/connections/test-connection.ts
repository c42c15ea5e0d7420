/**
 * Runs the "Test connection" probe for a stored connection and pins an SSH host key on first use; trusts a
 * changed host key when an admin confirms the fingerprint the server offers now.
 */
import "server-only";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { badRequest, conflict } from "@/server/errors";
import { probePostgres } from "@/server/targets/postgres-probe";
import { probeSsh } from "@/server/targets/ssh-probe";
import { getConnectionById, openConnectionSecret, pinHostKey } from "./service";

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

/**
 * Pins a new host key after an admin compared it with the server's: only the key the server offers right now
 * is accepted, so a stale or mistyped fingerprint cannot be pinned. Audited with the old and new keys.
 */
export async function trustHostKey(actor: Actor, connectionId: string, fingerprint: string) {
  const { row, secret } = await openConnectionSecret(connectionId);
  if (row.kind !== "ssh") throw badRequest("only SSH connections have a host key");
  const result = await probeSsh(
    { host: row.host, port: row.port, username: row.username, hostKey: fingerprint },
    secret,
  );
  if (!result.hostKey) throw conflict(`${row.host} did not offer a host key: ${result.message}`);
  if (result.hostKey !== fingerprint) {
    throw conflict(`${row.host} now offers ${result.hostKey}, not ${fingerprint}; test the connection again`);
  }
  await pinHostKey(row.id, fingerprint);
  await recordAuditEvent(actor, "connection.host_key_trust", row.name, {
    previous: row.hostKey,
    fingerprint,
  });
  return getConnectionById(row.id);
}
