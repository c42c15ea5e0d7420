/**
 * The connection registry: create, edit, delete, list what a principal may use, and open credentials for a
 * driver. Views returned from here never carry credentials, only whether each kind is set.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, eq, gt, sql } from "drizzle-orm";
import { accessGrants, type Connection, connections } from "@/db/schema";
import { getDb } from "@/db/store";
import { approvalSettings } from "@/server/approvals";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { resolveGroupIds } from "@/server/auth";
import { getConfig } from "@/server/config";
import { badRequest, conflict, GatewayError, notFound } from "@/server/errors";
import { hasPermission, type Principal } from "@/server/principal";
import { invalidateStoreCaches, storeCache } from "@/server/store-cache";
import { openSecret, sealSecret, type TargetSecret } from "@/server/vault";
import {
  type CreateConnectionInput,
  createConnectionSchema,
  DEFAULT_PORTS,
  type UpdateConnectionInput,
  updateConnectionSchema,
} from "./schema";
import {
  activeRevocations,
  findConnectionById,
  findConnectionByName,
  groupsByConnection,
  listConnectionRows,
  replaceConnectionGroups,
} from "./store";
import { copyConnectionView } from "./view-copy";

export interface ConnectionView {
  id: string;
  name: string;
  kind: "postgres" | "ssh";
  description: string;
  host: string;
  port: number;
  database: string | null;
  username: string;
  groups: string[];
  credentials: { password: boolean; privateKey: boolean };
  approvals: { approverGroups: string[]; approvalsRequired: number };
  hostKey: string | null;
  /** When the host key was pinned (first use, or an admin trusting a new key); null if unknown. */
  hostKeyPinnedAt: string | null;
  /** Own time limits of browser terminals; null uses the gateway's default. */
  terminal: { idleTimeoutSeconds: number | null; maxDurationSeconds: number | null };
  isDemo: boolean;
  createdAt: string;
  updatedAt: string;
}

function terminalOf(options: Record<string, unknown>) {
  const raw = (options.terminal ?? {}) as Record<string, unknown>;
  const seconds = (v: unknown) => (typeof v === "number" && v > 0 ? v : null);
  return {
    idleTimeoutSeconds: seconds(raw.idleTimeoutSeconds),
    maxDurationSeconds: seconds(raw.maxDurationSeconds),
  };
}

function credentialFlags(options: Record<string, unknown>) {
  const flags = options.credentials as { password?: boolean; privateKey?: boolean } | undefined;
  return { password: Boolean(flags?.password), privateKey: Boolean(flags?.privateKey) };
}

function toView(row: Connection, groupNames: string[]): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    description: row.description,
    host: row.host,
    port: row.port,
    database: row.database,
    username: row.username,
    groups: groupNames,
    credentials: credentialFlags(row.options),
    approvals: approvalSettings(row.options),
    hostKey: row.hostKey,
    hostKeyPinnedAt:
      row.hostKey && typeof row.options.hostKeyPinnedAt === "string" ? row.options.hostKeyPinnedAt : null,
    terminal: terminalOf(row.options),
    isDemo: row.isDemo,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Admin people use everything; others through one of the connection's groups (unless an access review
 * revoked that principal's access to the connection) or an active access grant.
 */
function canUse(
  principal: Principal,
  connectionId: string,
  groupIds: string[],
  granted: ReadonlySet<string>,
  revoked: ReadonlySet<string> = new Set(),
): boolean {
  if (principal.kind === "person" && hasPermission(principal, "users:manage")) return true;
  if (granted.has(connectionId)) return true;
  return !revoked.has(connectionId) && principal.groups.some((g) => groupIds.includes(g.id));
}

async function revokedConnectionIds(principal: Principal) {
  return new Set((await revocationsOf(principal)).map((r) => r.connectionId));
}

/** The refusal for access an access review took back: it names the campaign, the date, the reviewer and why. */
function revokedAccessError(
  name: string,
  revocation: { campaignName: string; at: Date; byLabel: string; comment: string },
) {
  const day = revocation.at.toISOString().slice(0, 10);
  const why = revocation.comment ? `: ${revocation.comment}` : "";
  return new GatewayError(
    "forbidden",
    `access to ${name} was revoked in access review '${revocation.campaignName}' on ${day} by ${revocation.byLabel}${why}`,
    { reason: "access_revoked" },
  );
}

/** Connections the principal may use; admins (people) see all of them. */
export async function listConnections(principal: Principal): Promise<ConnectionView[]> {
  const db = await getDb();
  const rows = await listConnectionRows(db);
  const [byConnection, granted, revoked] = await Promise.all([
    groupsByConnection(
      db,
      rows.map((r) => r.id),
    ),
    activeGrants(principal),
    revokedConnectionIds(principal),
  ]);
  return rows
    .filter((r) =>
      canUse(
        principal,
        r.id,
        (byConnection.get(r.id) ?? []).map((g) => g.id),
        granted,
        revoked,
      ),
    )
    .map((r) =>
      toView(
        r,
        (byConnection.get(r.id) ?? []).map((g) => g.name),
      ),
    );
}

/** The id of a named connection, for rules that target one; null stays null ("all connections"). */
export async function connectionIdByName(name: string | null): Promise<string | null> {
  if (name === null) return null;
  const db = await getDb();
  const row = await findConnectionByName(db, name);
  if (!row) throw badRequest(`unknown connection: ${name}`);
  return row.id;
}

/** Every connection, for operators (the admin command line). */
export async function listAllConnections(): Promise<ConnectionView[]> {
  const db = await getDb();
  const rows = await listConnectionRows(db);
  const byConnection = await groupsByConnection(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((r) =>
    toView(
      r,
      (byConnection.get(r.id) ?? []).map((g) => g.name),
    ),
  );
}

/**
 * Looks a connection up by name for a principal. A connection the principal may not use answers exactly
 * like a missing one, so names do not leak across groups; except access an access review took back, which
 * answers 403 saying when, by whom and why (the principal knew the connection, so nothing leaks).
 */
export async function getConnectionForUse(principal: Principal, name: string): Promise<ConnectionView> {
  const found = await connectionsByName.get(name, async () => {
    const db = await getDb();
    const row = await findConnectionByName(db, name);
    if (!row) return null;
    const groupsOf = (await groupsByConnection(db, [row.id])).get(row.id) ?? [];
    return {
      view: toView(
        row,
        groupsOf.map((g) => g.name),
      ),
      groupIds: groupsOf.map((g) => g.id),
    };
  });
  if (!found) throw notFound(`no connection named ${name}`);
  const [granted, revocations] = await Promise.all([activeGrants(principal), revocationsOf(principal)]);
  const revoked = new Set(revocations.map((r) => r.connectionId));
  if (!canUse(principal, found.view.id, found.groupIds, granted, revoked)) {
    const revocation = revocations.find((r) => r.connectionId === found.view.id);
    if (revocation) throw revokedAccessError(name, revocation);
    throw notFound(`no connection named ${name}`);
  }
  return copyConnectionView(found.view);
}

/** Connections by name with the ids of the groups that may use them; cleared on every change. */
const connectionsByName = storeCache<{ view: ConnectionView; groupIds: string[] } | null>(
  "connectionsByName",
);
/** Each user's active grants with their expiry (checked on every use); cleared on every change. */
const grantsByUser = storeCache<{ connectionId: string; expiresAt: Date | null }[]>("grantsByUser");
/** Each principal's access taken back in access reviews and not lifted; cleared on every change (audited). */
const revocationsByUser = storeCache<Awaited<ReturnType<typeof activeRevocations>>>("revocationsByUser");

async function revocationsOf(principal: Principal) {
  return revocationsByUser.get(principal.id, async () => activeRevocations(await getDb(), principal.id));
}

/** Connection ids the principal holds an active, unexpired access grant for. */
async function activeGrants(principal: Principal): Promise<Set<string>> {
  const grants = await grantsByUser.get(principal.id, async () => {
    const db = await getDb();
    return db
      .select({ connectionId: accessGrants.connectionId, expiresAt: accessGrants.expiresAt })
      .from(accessGrants)
      .where(
        and(
          eq(accessGrants.userId, principal.id),
          eq(accessGrants.state, "active"),
          gt(accessGrants.expiresAt, sql`now()`),
        ),
      );
  });
  const now = Date.now();
  return new Set(
    grants.filter((g) => g.expiresAt !== null && g.expiresAt.getTime() > now).map((g) => g.connectionId),
  );
}

export async function getConnectionById(id: string): Promise<ConnectionView> {
  const db = await getDb();
  const row = await findConnectionById(db, id);
  if (!row) throw notFound("no such connection");
  return toView(
    row,
    ((await groupsByConnection(db, [row.id])).get(row.id) ?? []).map((g) => g.name),
  );
}

function secretFrom(
  input: { password?: string; privateKey?: string; passphrase?: string },
  base: TargetSecret = {},
) {
  const next: TargetSecret = { ...base };
  for (const field of ["password", "privateKey", "passphrase"] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (value === "") delete next[field];
    else next[field] = value;
  }
  if (next.privateKey && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(next.privateKey)) {
    throw badRequest("the private key must be in PEM or OpenSSH format (-----BEGIN ... PRIVATE KEY-----)");
  }
  return next;
}

export async function createConnection(
  actor: Actor,
  input: CreateConnectionInput,
  extra: { isDemo?: boolean } = {},
) {
  const data = createConnectionSchema.parse(input);
  const db = await getDb();
  if (await findConnectionByName(db, data.name))
    throw conflict(`a connection named ${data.name} already exists`);
  const groupIds = await resolveGroupIds(data.groups);
  if (data.approvals) await resolveGroupIds(data.approvals.approverGroups);
  const secret = secretFrom(data);
  if (data.kind === "ssh" && !secret.password && !secret.privateKey) {
    throw badRequest("an SSH connection needs a password or a private key");
  }
  const id = randomUUID();
  await db.insert(connections).values({
    id,
    name: data.name,
    kind: data.kind,
    description: data.description,
    host: data.host,
    port: data.port ?? DEFAULT_PORTS[data.kind],
    database: data.kind === "postgres" ? data.database : null,
    username: data.username,
    secret: sealSecret(secret, getConfig().masterKey, id),
    options: {
      credentials: { password: Boolean(secret.password), privateKey: Boolean(secret.privateKey) },
      ...(data.approvals && { approvals: data.approvals }),
      ...(data.kind === "ssh" && data.terminal && { terminal: data.terminal }),
    },
    isDemo: extra.isDemo ?? false,
  });
  await replaceConnectionGroups(db, id, groupIds);
  await recordAuditEvent(actor, "connection.create", data.name, {
    kind: data.kind,
    host: data.host,
    groups: data.groups,
  });
  return getConnectionById(id);
}

export async function updateConnection(actor: Actor, id: string, input: UpdateConnectionInput) {
  const data = updateConnectionSchema.parse(input);
  const db = await getDb();
  const row = await findConnectionById(db, id);
  if (!row) throw notFound("no such connection");
  if (data.name && data.name !== row.name && (await findConnectionByName(db, data.name))) {
    throw conflict(`a connection named ${data.name} already exists`);
  }
  const key = getConfig().masterKey;
  const touchesSecret = [data.password, data.privateKey, data.passphrase].some((v) => v !== undefined);
  const secret = touchesSecret ? secretFrom(data, openSecret(row.secret, key, row.id)) : undefined;
  const hostChanged = (data.host && data.host !== row.host) || (data.port && data.port !== row.port);
  if (data.approvals) await resolveGroupIds(data.approvals.approverGroups);
  if (data.terminal && row.kind !== "ssh")
    throw badRequest("terminal time limits apply to SSH connections only");
  const options =
    secret || data.approvals || data.terminal
      ? {
          ...row.options,
          ...(secret && {
            credentials: { password: Boolean(secret.password), privateKey: Boolean(secret.privateKey) },
          }),
          ...(data.approvals && { approvals: data.approvals }),
          ...(data.terminal && { terminal: data.terminal }),
        }
      : undefined;
  await db
    .update(connections)
    .set({
      ...(data.name !== undefined && { name: data.name }),
      ...(data.description !== undefined && { description: data.description }),
      ...(data.host !== undefined && { host: data.host }),
      ...(data.port !== undefined && { port: data.port }),
      ...(data.database !== undefined && row.kind === "postgres" && { database: data.database }),
      ...(data.username !== undefined && { username: data.username }),
      ...(secret && { secret: sealSecret(secret, key, row.id) }),
      ...(options && { options }),
      // A new address means a new machine: its host key must be pinned again.
      ...(hostChanged && { hostKey: null }),
      updatedAt: new Date(),
    })
    .where(eq(connections.id, id));
  if (data.groups !== undefined) await replaceConnectionGroups(db, id, await resolveGroupIds(data.groups));
  const changed = Object.keys(data).map((k) =>
    ["password", "privateKey", "passphrase"].includes(k) ? `${k} (replaced)` : k,
  );
  await recordAuditEvent(actor, "connection.update", data.name ?? row.name, { changed });
  return getConnectionById(id);
}

export async function deleteConnection(actor: Actor, id: string) {
  const db = await getDb();
  const row = await findConnectionById(db, id);
  if (!row) throw notFound("no such connection");
  await db.delete(connections).where(eq(connections.id, id));
  await recordAuditEvent(actor, "connection.delete", row.name);
}

/** Credentials for a driver. Only target drivers call this; the result must never leave the server. */
export async function openConnectionSecret(
  connectionId: string,
): Promise<{ row: Connection; secret: TargetSecret }> {
  const db = await getDb();
  const row = await findConnectionById(db, connectionId);
  if (!row) throw notFound("no such connection");
  try {
    return { row, secret: openSecret(row.secret, getConfig().masterKey, row.id) };
  } catch {
    throw new GatewayError(
      "target_unavailable",
      "the stored credentials cannot be decrypted: MASTER_KEY differs from the one they were saved with",
    );
  }
}

export async function pinHostKey(connectionId: string, fingerprint: string) {
  const db = await getDb();
  await db
    .update(connections)
    .set({
      hostKey: fingerprint,
      options: sql`${connections.options} || jsonb_build_object('hostKeyPinnedAt', ${new Date().toISOString()}::text)`,
    })
    .where(eq(connections.id, connectionId));
  await invalidateStoreCaches();
}

/** Forgets the pinned SSH host key: the next session or test pins whatever the server offers then. Audited. */
export async function resetHostKey(actor: Actor, id: string) {
  const db = await getDb();
  const row = await findConnectionById(db, id);
  if (!row) throw notFound("no such connection");
  if (row.kind !== "ssh") throw badRequest("only SSH connections have a host key");
  await db
    .update(connections)
    .set({ hostKey: null, options: sql`${connections.options} - 'hostKeyPinnedAt'` })
    .where(eq(connections.id, id));
  await recordAuditEvent(actor, "connection.host_key_reset", row.name, { previous: row.hostKey });
  return getConnectionById(id);
}

export function assertCanManage(principal: Principal) {
  if (!hasPermission(principal, "connections:manage"))
    throw new GatewayError("forbidden", "missing permission connections:manage");
}
