/**
 * What a revoke does, at once: the principal's active grants on the connection end, a revocation record denies
 * their group paths to it (see docs/decisions/0005-access-reviews.md), their live terminals there are ended,
 * and each step is an audit event; and the auditor's list of revocations and the admin's lift. Not responsible
 * for who may revoke (decisions.ts decides an item, then calls applyRevoke).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { AccessReviewCampaign, AccessReviewItem } from "@/db/schema";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { notFound } from "@/server/errors";
import { actorOf, type Principal } from "@/server/principal";
import { endLiveTerminal, listLiveTerminals } from "@/server/terminal";
import type { MatrixRow } from "./evidence";
import { assertAdmin, assertAuditor } from "./permissions";
import {
  insertRevocation,
  liftRevocationRow,
  listActiveRevocations,
  revokeActiveGrants,
  setItemEffect,
} from "./store";

export async function applyRevoke(
  db: Awaited<ReturnType<typeof getDb>>,
  principal: Principal,
  campaign: AccessReviewCampaign,
  item: AccessReviewItem,
  comment: string,
) {
  const actor = actorOf(principal);
  const grants = await revokeActiveGrants(db, item.principalId, item.connectionId);
  for (const grantId of grants) {
    await recordAuditEvent(actor, "grant.revoke", item.connectionName, {
      grantId,
      holderId: item.principalId,
      accessReviewId: campaign.id,
    });
  }
  await insertRevocation(db, {
    id: randomUUID(),
    principalId: item.principalId,
    connectionId: item.connectionId,
    campaignId: campaign.id,
    campaignName: campaign.name,
    itemId: item.id,
    byLabel: actor.label,
    comment,
  });
  const terminals = (await listLiveTerminals()).filter(
    (t) => t.principalId === item.principalId && t.connectionName === item.connectionName,
  );
  for (const t of terminals) await endLiveTerminal(actor, t.sessionId).catch(() => undefined);
  const evidence = item.evidence as unknown as MatrixRow;
  const effect = {
    grantsRevoked: grants,
    groupPathsDenied: (evidence.paths ?? [])
      .filter((p) => p.via === "group")
      .map((p) => (p as { group: string }).group),
    terminalsEnded: terminals.map((t) => t.sessionId),
  };
  await setItemEffect(db, item.id, effect);
  return effect;
}

/** Access reviews took these back and nobody lifted them yet. */
export async function listRevocations(principal: Principal) {
  assertAuditor(principal);
  const rows = await listActiveRevocations(await getDb());
  return rows.map(({ revocation: r, connection, principalEmail, principalName, principalKind }) => ({
    id: r.id,
    principalId: r.principalId,
    /** who lost the access: an email, `service:<name>`, or the id of a principal deleted since */
    principal:
      principalKind === "service"
        ? `service:${principalName}`
        : (principalEmail ?? `deleted ${r.principalId}`),
    connection,
    campaign: r.campaignName,
    by: r.byLabel,
    at: r.at.toISOString(),
    comment: r.comment,
  }));
}

/** Gives back the group path an access review denied (admins; audited). Grants that ended stay ended. */
export async function liftRevocation(principal: Principal, id: string) {
  assertAdmin(principal);
  const actor = actorOf(principal);
  const row = await liftRevocationRow(await getDb(), id, actor.label);
  if (!row) throw notFound("no such revocation, or it was already lifted");
  await recordAuditEvent(actor, "access_review.lift", row.campaignName, {
    revocationId: id,
    principalId: row.principalId,
    connectionId: row.connectionId,
  });
  return { ok: true };
}
