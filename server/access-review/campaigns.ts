/**
 * Access review campaigns: an admin starts one over some connections or groups; its items (one per principal
 * and connection) are snapshotted with the evidence shown at that moment and routed to reviewers (a group, or
 * each connection's owner group, else admins); admins close it and nudge reviewers; auditors read its evidence
 * report once closed. Permission checks open every exported function. Not responsible for deciding items
 * (decisions.ts), what a revoke does (revocations.ts) or announcing (reminders.ts).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { AccessReviewCampaign, AccessReviewItem } from "@/db/schema";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { badRequest, GatewayError, notFound } from "@/server/errors";
import { actorOf, hasPermission, type Principal } from "@/server/principal";
import {
  type AccessPath,
  type MatrixRow,
  parseDateParam,
  progressByReviewer,
  revokeConsequence,
} from "./evidence";
import { queryMatrix } from "./matrix";
import { resolveScope } from "./owners";
import { assertAdmin, isAdmin, mayDecide, maySee } from "./permissions";
import { announce, sendDueReminders } from "./reminders";
import { type CreateCampaignInput, createCampaignSchema, matrixFiltersSchema } from "./schema";
import {
  campaignItems,
  closeCampaignRow,
  connectionOwners,
  findCampaign,
  groupsByIds,
  insertCampaign,
  insertItems,
  listCampaignRows,
} from "./store";

export interface CampaignSummary {
  id: string;
  name: string;
  state: "open" | "closed";
  reviewers: string;
  dueAt: string;
  createdAt: string;
  createdBy: string;
  closedAt: string | null;
  unusedDays: number;
  total: number;
  decided: number;
  revoked: number;
  /** items this principal may still decide */
  mine: number;
}

export interface ItemView {
  id: string;
  principal: string;
  principalKind: "person" | "service";
  connection: string;
  reviewer: string;
  evidence: MatrixRow;
  decision: "keep" | "revoke" | null;
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string;
  effect: Record<string, unknown> | null;
  /** what a revoke would do, shown before the reviewer confirms */
  consequence: string;
  isMine: boolean;
  canDecide: boolean;
}

function reviewerLabel(campaign: AccessReviewCampaign, groupName: string | null | undefined) {
  if (campaign.reviewerMode === "group") return `group ${groupName ?? "(deleted)"}`;
  return "connection owners";
}

export function toItemView(
  principal: Principal,
  campaign: AccessReviewCampaign,
  item: AccessReviewItem,
): ItemView {
  const evidence = item.evidence as unknown as MatrixRow;
  return {
    id: item.id,
    principal: item.principalLabel,
    principalKind: item.principalKind,
    connection: item.connectionName,
    reviewer: item.reviewerGroupName ? `group ${item.reviewerGroupName}` : "admins",
    evidence,
    decision: item.decision,
    decidedBy: item.decidedByLabel,
    decidedAt: item.decidedAt?.toISOString() ?? null,
    comment: item.comment,
    effect: item.effect,
    consequence: revokeConsequence(
      item.principalLabel,
      item.connectionName,
      evidence.paths ?? [],
      evidence.connectionKind,
    ),
    isMine: item.principalId === principal.id,
    canDecide: campaign.state === "open" && item.decision === null && mayDecide(principal, item),
  };
}

function summarize(
  principal: Principal,
  campaign: AccessReviewCampaign,
  items: AccessReviewItem[],
): CampaignSummary {
  return {
    id: campaign.id,
    name: campaign.name,
    state: campaign.state,
    reviewers: reviewerLabel(campaign, items.find((i) => i.reviewerGroupName)?.reviewerGroupName),
    dueAt: campaign.dueAt.toISOString(),
    createdAt: campaign.createdAt.toISOString(),
    createdBy: campaign.createdByLabel,
    closedAt: campaign.closedAt?.toISOString() ?? null,
    unusedDays: campaign.unusedDays,
    total: items.length,
    decided: items.filter((i) => i.decision !== null).length,
    revoked: items.filter((i) => i.decision === "revoke").length,
    mine: items.filter((i) => campaign.state === "open" && i.decision === null && mayDecide(principal, i))
      .length,
  };
}

/** Campaigns the principal may see: admins and auditors all; others those with items for them. */
export async function listCampaigns(principal: Principal): Promise<CampaignSummary[]> {
  await sendDueReminders();
  const db = await getDb();
  const campaigns = await listCampaignRows(db);
  const items = await campaignItems(
    db,
    campaigns.map((c) => c.id),
  );
  return campaigns
    .map((c) => ({ campaign: c, items: items.filter((i) => i.campaignId === c.id) }))
    .filter(
      ({ items: its }) =>
        hasPermission(principal, "audit:read") ||
        its.some((i) => maySee(principal, i) && i.principalId !== principal.id),
    )
    .map(({ campaign, items: its }) => summarize(principal, campaign, its));
}

export interface CampaignView extends CampaignSummary {
  progress: { reviewer: string; decided: number; total: number }[];
  items: ItemView[];
  isAdmin: boolean;
}

export async function loadCampaign(id: string) {
  const db = await getDb();
  const campaign = await findCampaign(db, id);
  if (!campaign) throw notFound("no such access review");
  return { db, campaign, items: await campaignItems(db, [id]) };
}

/** A campaign with the items the principal may see (reviewers: theirs; auditors: all), and per-reviewer progress. */
export async function getCampaign(principal: Principal, id: string): Promise<CampaignView> {
  const { campaign, items } = await loadCampaign(id);
  const visible = items.filter((i) => maySee(principal, i));
  if (visible.length === 0 && !hasPermission(principal, "audit:read"))
    throw notFound("no such access review");
  return {
    ...summarize(principal, campaign, items),
    progress: progressByReviewer(items),
    items: visible.map((i) => toItemView(principal, campaign, i)),
    isAdmin: isAdmin(principal),
  };
}

/** Starts a campaign: snapshots each in-scope (principal, connection) with its evidence as of now. */
export async function createCampaign(
  principal: Principal,
  input: CreateCampaignInput,
): Promise<CampaignView> {
  assertAdmin(principal);
  const data = createCampaignSchema.parse(input);
  let dueAt: Date;
  try {
    dueAt = parseDateParam(data.dueAt, "dueAt");
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  if (dueAt.getTime() <= Date.now()) throw badRequest("dueAt must be in the future");
  const db = await getDb();
  const scopeConnections = await resolveScope(db, [...new Set(data.connections)], "connection");
  const scopeGroups = await resolveScope(db, [...new Set(data.groups)], "group");
  const [reviewerGroup] = data.reviewerGroup ? await resolveScope(db, [data.reviewerGroup], "group") : [];
  const now = new Date();
  const { rows } = await queryMatrix(db, matrixFiltersSchema.parse({ unusedDays: data.unusedDays }), {
    all: true,
    now,
  });
  const connectionIds = new Set(scopeConnections.map((c) => c.id));
  const groupNames = new Set(scopeGroups.map((g) => g.name));
  const owners = new Map((await connectionOwners(db)).map((c) => [c.id, c.ownerGroupId]));
  const ownerNames = await groupsByIds(db, [
    ...new Set([...owners.values()].filter((v): v is string => Boolean(v))),
  ]);
  const inScope = rows.filter((row) => {
    // The admin role is not reviewed per connection: it is changed on the Users page.
    const reviewable = row.paths.filter((p): p is Exclude<AccessPath, { via: "admin" }> => p.via !== "admin");
    if (reviewable.length === 0 || row.paths.some((p) => p.via === "admin")) return false;
    if (connectionIds.size > 0 && !connectionIds.has(row.connectionId)) return false;
    if (groupNames.size > 0 && !reviewable.some((p) => p.via === "group" && groupNames.has(p.group)))
      return false;
    return true;
  });
  if (inScope.length === 0) throw badRequest("nothing to review: no principal has access within this scope");
  const id = randomUUID();
  const actor = actorOf(principal);
  await insertCampaign(db, {
    id,
    name: data.name,
    scope: { connectionIds: [...connectionIds], groupIds: scopeGroups.map((g) => g.id) },
    reviewerMode: data.reviewers,
    reviewerGroupId: reviewerGroup?.id ?? null,
    unusedDays: data.unusedDays,
    dueAt,
    createdBy: principal.id,
    createdByLabel: actor.label,
  });
  await insertItems(
    db,
    inScope.map((row) => {
      const ownerId =
        data.reviewers === "owners" ? (owners.get(row.connectionId) ?? null) : (reviewerGroup?.id ?? null);
      const ownerName = ownerId ? (ownerNames.get(ownerId) ?? reviewerGroup?.name ?? null) : null;
      return {
        id: randomUUID(),
        campaignId: id,
        principalId: row.principalId,
        principalLabel: row.principal,
        principalKind: row.principalKind,
        connectionId: row.connectionId,
        connectionName: row.connection,
        reviewerGroupId: ownerName ? ownerId : null,
        reviewerGroupName: ownerName,
        evidence: row as unknown as Record<string, unknown>,
      };
    }),
  );
  await recordAuditEvent(actor, "access_review.start", data.name, {
    campaignId: id,
    items: inScope.length,
    reviewers: data.reviewers === "group" ? `group ${reviewerGroup?.name}` : "connection owners",
    dueAt: dueAt.toISOString(),
  });
  const loaded = await loadCampaign(id);
  announce("campaign.started", loaded.campaign, loaded.items);
  return getCampaign(principal, id);
}

export async function closeCampaign(principal: Principal, id: string) {
  assertAdmin(principal);
  const { db, campaign, items } = await loadCampaign(id);
  if (campaign.state === "closed") throw new GatewayError("conflict", "this access review is already closed");
  const actor = actorOf(principal);
  const closed = await closeCampaignRow(db, id, actor.label);
  if (!closed) throw new GatewayError("conflict", "this access review is already closed");
  await recordAuditEvent(actor, "access_review.close", campaign.name, {
    campaignId: id,
    decided: items.filter((i) => i.decision !== null).length,
    undecided: items.filter((i) => i.decision === null).length,
  });
  announce("campaign.closed", closed, items);
  return getCampaign(principal, id);
}

/** Sends the reminder now (an admin's nudge); the automatic one still goes out once near the due date. */
export async function remindCampaign(principal: Principal, id: string) {
  assertAdmin(principal);
  const { campaign, items } = await loadCampaign(id);
  if (campaign.state !== "open") throw new GatewayError("conflict", "this access review is closed");
  announce("campaign.reminder", campaign, items);
  return { ok: true };
}

export interface EvidenceReport {
  campaign: {
    id: string;
    name: string;
    reviewers: string;
    createdBy: string;
    createdAt: string;
    dueAt: string;
    closedAt: string | null;
    closedBy: string | null;
    unusedDays: number;
  };
  summary: { items: number; kept: number; revoked: number; undecided: number };
  items: {
    principal: string;
    principalKind: string;
    connection: string;
    reviewer: string;
    decision: "keep" | "revoke" | null;
    decidedBy: string | null;
    decidedAt: string | null;
    comment: string;
    effect: Record<string, unknown> | null;
    /** the evidence the reviewer was shown (as of the campaign's start) */
    evidence: MatrixRow;
  }[];
  generatedAt: string;
}

/** The evidence report of a closed campaign: every item, decision, reviewer, time, comment and evidence. */
export async function campaignReport(principal: Principal, id: string): Promise<EvidenceReport> {
  const { campaign, items } = await loadCampaign(id);
  if (!hasPermission(principal, "audit:read"))
    throw new GatewayError("forbidden", "evidence reports need permission audit:read");
  if (campaign.state !== "closed")
    throw new GatewayError("conflict", "the evidence report is produced when the access review is closed");
  return {
    campaign: {
      id: campaign.id,
      name: campaign.name,
      reviewers: reviewerLabel(campaign, items.find((i) => i.reviewerGroupName)?.reviewerGroupName),
      createdBy: campaign.createdByLabel,
      createdAt: campaign.createdAt.toISOString(),
      dueAt: campaign.dueAt.toISOString(),
      closedAt: campaign.closedAt?.toISOString() ?? null,
      closedBy: campaign.closedByLabel,
      unusedDays: campaign.unusedDays,
    },
    summary: {
      items: items.length,
      kept: items.filter((i) => i.decision === "keep").length,
      revoked: items.filter((i) => i.decision === "revoke").length,
      undecided: items.filter((i) => i.decision === null).length,
    },
    items: items.map((i) => ({
      principal: i.principalLabel,
      principalKind: i.principalKind,
      connection: i.connectionName,
      reviewer: i.reviewerGroupName ? `group ${i.reviewerGroupName}` : "admins",
      decision: i.decision,
      decidedBy: i.decidedByLabel,
      decidedAt: i.decidedAt?.toISOString() ?? null,
      comment: i.comment,
      effect: i.effect,
      evidence: i.evidence as unknown as MatrixRow,
    })),
    generatedAt: new Date().toISOString(),
  };
}
