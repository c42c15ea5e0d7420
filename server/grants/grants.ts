/**
 * Just-in-time access grants: a person asks for a connection for a while, an admin (never the requester)
 * approves or denies, and an approved grant lapses by itself when expires_at passes. The holder or an admin
 * may revoke it early. Every decision is an audit event. Not responsible for enforcing access: the connection
 * registry reads active grants in canUse.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { and, desc, eq, lte } from "drizzle-orm";
import { z } from "zod";
import { type AccessGrant, accessGrants, connections, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { signalReviewsChanged } from "@/server/approvals";
import { recordAuditEvent } from "@/server/audit";
import { GatewayError, notFound } from "@/server/errors";
import { actorOf, hasPermission, type Principal } from "@/server/principal";

export const requestGrantSchema = z.strictObject({
  connection: z.string().trim().min(1).max(200),
  durationMinutes: z.number().int().min(15).max(1440),
  reason: z.string().trim().max(1000).default(""),
});
export type RequestGrantInput = z.input<typeof requestGrantSchema>;

export interface GrantView {
  id: string;
  state: AccessGrant["state"];
  requester: string;
  requesterId: string;
  connection: string;
  reason: string;
  durationMinutes: number;
  requestedAt: string;
  decidedAt: string | null;
  startsAt: string | null;
  expiresAt: string | null;
  comment: string;
  isMine: boolean;
  canDecide: boolean;
  canRevoke: boolean;
}

function isAdmin(principal: Principal): boolean {
  return principal.kind === "person" && hasPermission(principal, "users:manage");
}

/** Active grants whose time is up become expired; the active check never relies on this having run. */
async function expireLapsed() {
  const db = await getDb();
  await db
    .update(accessGrants)
    .set({ state: "expired" })
    .where(and(eq(accessGrants.state, "active"), lte(accessGrants.expiresAt, new Date())));
}

const viewColumns = {
  grant: accessGrants,
  connection: connections.name,
  email: users.email,
};

type Joined = { grant: AccessGrant; connection: string; email: string };

function toView(row: Joined, principal: Principal): GrantView {
  const g = row.grant;
  const isMine = g.userId === principal.id;
  return {
    id: g.id,
    state: g.state,
    requester: row.email,
    requesterId: g.userId,
    connection: row.connection,
    reason: g.reason,
    durationMinutes: g.durationMinutes,
    requestedAt: g.requestedAt.toISOString(),
    decidedAt: g.decidedAt?.toISOString() ?? null,
    startsAt: g.startsAt?.toISOString() ?? null,
    expiresAt: g.expiresAt?.toISOString() ?? null,
    comment: g.comment,
    isMine,
    canDecide: g.state === "pending" && !isMine && isAdmin(principal),
    canRevoke: g.state === "active" && (isMine || isAdmin(principal)),
  };
}

async function selectGrants(where: ReturnType<typeof eq> | undefined) {
  const db = await getDb();
  return db
    .select(viewColumns)
    .from(accessGrants)
    .innerJoin(connections, eq(connections.id, accessGrants.connectionId))
    .innerJoin(users, eq(users.id, accessGrants.userId))
    .where(where)
    .orderBy(desc(accessGrants.requestedAt))
    .limit(500);
}

/** `mine`: the principal's grants; `all`: everyone's (audit:read). Newest first. */
export async function listGrants(principal: Principal, scope: "mine" | "all"): Promise<GrantView[]> {
  if (scope === "all" && !hasPermission(principal, "audit:read"))
    throw new GatewayError("forbidden", "you may list only your own grants");
  await expireLapsed();
  const rows = await selectGrants(scope === "mine" ? eq(accessGrants.userId, principal.id) : undefined);
  return rows.map((r) => toView(r, principal));
}

/** Every connection name and whether the principal can already use it, for the request form. */
export async function listGrantableConnections(
  principal: Principal,
): Promise<{ name: string; kind: "postgres" | "ssh"; hasAccess: boolean }[]> {
  const { listConnections } = await import("@/server/connections");
  const db = await getDb();
  const [all, usable] = await Promise.all([
    db.select({ name: connections.name, kind: connections.kind }).from(connections).orderBy(connections.name),
    listConnections(principal),
  ]);
  const usableNames = new Set(usable.map((c) => c.name));
  return all.map((c) => ({ ...c, hasAccess: usableNames.has(c.name) }));
}

async function viewOf(principal: Principal, id: string): Promise<GrantView> {
  const [row] = await selectGrants(eq(accessGrants.id, id));
  if (!row) throw notFound("no such grant");
  return toView(row, principal);
}

export async function requestGrant(principal: Principal, input: RequestGrantInput): Promise<GrantView> {
  const data = requestGrantSchema.parse(input);
  if (principal.kind !== "person") throw new GatewayError("forbidden", "only people may request access");
  const db = await getDb();
  const [conn] = await db
    .select({ id: connections.id, name: connections.name })
    .from(connections)
    .where(eq(connections.name, data.connection));
  if (!conn) throw notFound(`no connection named ${data.connection}`);
  const [pending] = await db
    .select({ id: accessGrants.id })
    .from(accessGrants)
    .where(
      and(
        eq(accessGrants.userId, principal.id),
        eq(accessGrants.connectionId, conn.id),
        eq(accessGrants.state, "pending"),
      ),
    );
  if (pending) throw new GatewayError("conflict", "you already have a pending request for this connection");
  const id = randomUUID();
  await db.insert(accessGrants).values({
    id,
    userId: principal.id,
    connectionId: conn.id,
    reason: data.reason,
    durationMinutes: data.durationMinutes,
  });
  await recordAuditEvent(actorOf(principal), "grant.request", conn.name, {
    grantId: id,
    durationMinutes: data.durationMinutes,
    reason: data.reason,
  });
  signalReviewsChanged();
  return viewOf(principal, id);
}

async function loadGrant(id: string): Promise<AccessGrant & { connectionName: string }> {
  const db = await getDb();
  const [row] = await db
    .select({ grant: accessGrants, connectionName: connections.name })
    .from(accessGrants)
    .innerJoin(connections, eq(connections.id, accessGrants.connectionId))
    .where(eq(accessGrants.id, id));
  if (!row) throw notFound("no such grant");
  return { ...row.grant, connectionName: row.connectionName };
}

/** Admins approve or deny pending requests; nobody decides their own. Approval starts the clock. */
export async function decideGrant(
  principal: Principal,
  id: string,
  decision: "approve" | "deny",
  comment = "",
): Promise<GrantView> {
  const grant = await loadGrant(id);
  if (grant.userId === principal.id)
    throw new GatewayError("forbidden", "you cannot decide your own request");
  // Only admins decide; to anyone else another person's request reads as no request at all.
  if (!isAdmin(principal)) throw notFound("no such grant");
  if (grant.state !== "pending") throw new GatewayError("conflict", `this request is already ${grant.state}`);
  const now = new Date();
  const db = await getDb();
  const updated = await db
    .update(accessGrants)
    .set(
      decision === "approve"
        ? {
            state: "active",
            decidedBy: principal.id,
            decidedAt: now,
            startsAt: now,
            expiresAt: new Date(now.getTime() + grant.durationMinutes * 60_000),
            comment,
          }
        : { state: "denied", decidedBy: principal.id, decidedAt: now, comment },
    )
    .where(and(eq(accessGrants.id, id), eq(accessGrants.state, "pending")))
    .returning({ id: accessGrants.id });
  if (updated.length === 0) throw new GatewayError("conflict", "the request changed meanwhile; reload it");
  await recordAuditEvent(actorOf(principal), `grant.${decision}`, grant.connectionName, {
    grantId: id,
    holderId: grant.userId,
    durationMinutes: grant.durationMinutes,
    comment,
  });
  signalReviewsChanged();
  return viewOf(principal, id);
}

/** Ends an active grant now; the holder or an admin. */
export async function revokeGrant(principal: Principal, id: string): Promise<GrantView> {
  const grant = await loadGrant(id);
  // Someone else's grant reads as no grant at all.
  if (grant.userId !== principal.id && !isAdmin(principal)) throw notFound("no such grant");
  const db = await getDb();
  const now = new Date();
  const updated = await db
    .update(accessGrants)
    .set({ state: "revoked", decidedAt: now })
    .where(and(eq(accessGrants.id, id), eq(accessGrants.state, "active")))
    .returning({ id: accessGrants.id });
  if (updated.length === 0) throw new GatewayError("conflict", "this grant is not active");
  await recordAuditEvent(actorOf(principal), "grant.revoke", grant.connectionName, {
    grantId: id,
    holderId: grant.userId,
  });
  signalReviewsChanged();
  return viewOf(principal, id);
}
