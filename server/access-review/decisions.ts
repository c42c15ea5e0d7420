/**
 * Reviewers' decisions on campaign items: keep or revoke, one item or many (given ones, or every undecided
 * item of mine flagged unused). Nobody decides their own access; only the item's reviewer group (or admins)
 * decides it; a closed campaign takes no decision; an item is decided once. Every decision is an audit event.
 * Not responsible for what a revoke does (revocations.ts).
 */
import "server-only";
import type { AccessReviewCampaign, AccessReviewItem } from "@/db/schema";
import type { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { GatewayError, notFound } from "@/server/errors";
import { actorOf, type Principal } from "@/server/principal";
import { loadCampaign, toItemView } from "./campaigns";
import { isUnusedAccess, type MatrixRow } from "./evidence";
import { mayDecide, maySee } from "./permissions";
import { applyRevoke } from "./revocations";
import { type BulkDecideInput, bulkDecideSchema, type DecideItemInput, decideItemSchema } from "./schema";
import { setItemDecision } from "./store";

async function decide(
  db: Awaited<ReturnType<typeof getDb>>,
  principal: Principal,
  campaign: AccessReviewCampaign,
  item: AccessReviewItem,
  decision: "keep" | "revoke",
  comment: string,
) {
  if (item.principalId === principal.id)
    throw new GatewayError(
      "forbidden",
      "nobody reviews their own access: another reviewer decides this item",
    );
  if (!mayDecide(principal, item))
    throw new GatewayError(
      "forbidden",
      `this item is for ${item.reviewerGroupName ? `group ${item.reviewerGroupName}` : "admins"} to review`,
    );
  if (campaign.state !== "open") throw new GatewayError("conflict", "this access review is closed");
  const actor = actorOf(principal);
  const decided = await setItemDecision(db, item.id, {
    decision,
    decidedBy: principal.id,
    decidedByLabel: actor.label,
    decidedAt: new Date(),
    comment,
  });
  if (!decided) throw new GatewayError("conflict", "this item was already decided");
  const effect =
    decision === "revoke" ? await applyRevoke(db, principal, campaign, item, comment) : undefined;
  await recordAuditEvent(actor, `access_review.${decision}`, item.connectionName, {
    campaignId: campaign.id,
    campaign: campaign.name,
    itemId: item.id,
    principal: item.principalLabel,
    comment,
    ...(effect && { effect }),
  });
}

export async function decideItem(
  principal: Principal,
  campaignId: string,
  itemId: string,
  input: DecideItemInput,
) {
  const data = decideItemSchema.parse(input);
  const { db, campaign, items } = await loadCampaign(campaignId);
  const item = items.find((i) => i.id === itemId);
  if (!item || !maySee(principal, item)) throw notFound("no such item in this access review");
  await decide(db, principal, campaign, item, data.decision, data.comment);
  const after = await loadCampaign(campaignId);
  const updated = after.items.find((i) => i.id === itemId);
  if (!updated) throw notFound("no such item in this access review");
  return toItemView(principal, after.campaign, updated);
}

/**
 * Decides many items at once: the given ones, or every undecided item of mine flagged unused. Own items and
 * items for other reviewers are skipped, not refused, and counted.
 */
export async function bulkDecide(principal: Principal, campaignId: string, input: BulkDecideInput) {
  const data = bulkDecideSchema.parse(input);
  const { db, campaign, items } = await loadCampaign(campaignId);
  if (campaign.state !== "open") throw new GatewayError("conflict", "this access review is closed");
  const now = new Date();
  const wanted = data.itemIds ? new Set(data.itemIds) : undefined;
  const candidates = items.filter(
    (i) =>
      i.decision === null &&
      (wanted
        ? wanted.has(i.id)
        : isUnusedAccess(i.evidence as unknown as MatrixRow, now, campaign.unusedDays)),
  );
  let decided = 0;
  let skipped = 0;
  for (const item of candidates) {
    if (!mayDecide(principal, item)) {
      skipped++;
      continue;
    }
    await decide(db, principal, campaign, item, data.decision, data.comment);
    decided++;
  }
  return { decided, skipped };
}
