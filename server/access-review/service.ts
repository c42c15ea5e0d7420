/**
 * Access reviews: the matrix for admins and auditors, and campaigns. An admin starts a campaign over some
 * connections or groups; its items (one per principal and connection) are snapshotted with the evidence shown
 * at that moment; reviewers (a group, or each connection's owner group, else admins) decide keep or revoke.
 * A revoke takes effect at once: active grants end, a revocation record denies the principal's group paths to
 * that connection (see docs/decisions/0005-access-reviews.md), live terminals of the principal there are ended, and
 * it is an audit event. Nobody reviews their own access. Permission checks open every exported function.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { AccessReviewCampaign, AccessReviewItem } from "@/db/schema";
import { getDb } from "@/db/store";
import { notifyWebhookEvent } from "@/server/approvals";
import { recordAuditEvent } from "@/server/audit";
import { badRequest, GatewayError, notFound } from "@/server/errors";
import { actorOf, hasPermission, type Principal } from "@/server/principal";
import { endLiveTerminal, listLiveTerminals } from "@/server/terminal";
import {
  type AccessPath,
  DAY_MS,
  isUnusedAccess,
  type MatrixRow,
  matrixToCsv,
  parseDateParam,
  progressByReviewer,
  revokeConsequence,
} from "./evidence";
import { type MatrixPage, queryMatrix } from "./matrix";
import { answerQuestion } from "./questions";
import {
  type BulkDecideInput,
  bulkDecideSchema,
  type CreateCampaignInput,
  createCampaignSchema,
  type DecideItemInput,
  decideItemSchema,
  type MatrixFilters,
  matrixFiltersSchema,
  questionSchema,
} from "./schema";
import {
  campaignItems,
  closeCampaignRow,
  connectionOwners,
  connectionsByNames,
  filterOptions,
  findCampaign,
  groupsByIds,
  groupsByNames,
  insertCampaign,
  insertItems,
  insertRevocation,
  liftRevocationRow,
  listActiveRevocations,
  listCampaignRows,
  revokeActiveGrants,
  setConnectionOwnerRow,
  setItemDecision,
  setItemEffect,
  takeDueReminders,
} from "./store";

/** Reminders go out once, this long before the due date. */
export const REMINDER_BEFORE_MS = 2 * DAY_MS;

function isAdmin(principal: Principal): boolean {
  return principal.kind === "person" && hasPermission(principal, "users:manage");
}

function assertAuditor(principal: Principal) {
  if (!hasPermission(principal, "audit:read"))
    throw new GatewayError("forbidden", "the access matrix needs permission audit:read");
}

function assertAdmin(principal: Principal) {
  if (!isAdmin(principal)) throw new GatewayError("forbidden", "only admins manage access review campaigns");
}

/** The matrix, one page; filters from a query string or an object. */
export async function getAccessMatrix(
  principal: Principal,
  filters: Partial<MatrixFilters> | Record<string, unknown>,
) {
  assertAuditor(principal);
  return queryMatrix(await getDb(), matrixFiltersSchema.parse(filters));
}

/** Every row matching the filters, as CSV (what the page shows, without paging). */
export async function exportAccessMatrixCsv(principal: Principal, filters: Record<string, unknown>) {
  assertAuditor(principal);
  const page = await queryMatrix(await getDb(), matrixFiltersSchema.parse(filters), { all: true });
  return matrixToCsv(page.rows);
}

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

/** May this principal decide this item? Never their own; members of its reviewer group, or admins. */
function mayDecide(principal: Principal, item: AccessReviewItem): boolean {
  if (item.principalId === principal.id || principal.kind !== "person") return false;
  if (isAdmin(principal)) return true;
  return item.reviewerGroupId !== null && principal.groups.some((g) => g.id === item.reviewerGroupId);
}

/** May see the item: auditors everything; reviewers the items routed to their groups; the principal their own. */
function maySee(principal: Principal, item: AccessReviewItem): boolean {
  return (
    hasPermission(principal, "audit:read") ||
    item.principalId === principal.id ||
    (item.reviewerGroupId !== null && principal.groups.some((g) => g.id === item.reviewerGroupId))
  );
}

function toItemView(principal: Principal, campaign: AccessReviewCampaign, item: AccessReviewItem): ItemView {
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

function campaignPayload(campaign: AccessReviewCampaign, items: AccessReviewItem[]) {
  return {
    id: campaign.id,
    name: campaign.name,
    state: campaign.state,
    dueAt: campaign.dueAt.toISOString(),
    createdBy: campaign.createdByLabel,
    items: items.length,
    decided: items.filter((i) => i.decision !== null).length,
    progress: progressByReviewer(items),
  };
}

const CAMPAIGN_HEADLINES = {
  "campaign.started": "started",
  "campaign.reminder": "is due soon",
  "campaign.closed": "was closed",
} as const;

function announce(
  event: keyof typeof CAMPAIGN_HEADLINES,
  campaign: AccessReviewCampaign,
  items: AccessReviewItem[],
) {
  const payload = { event, campaign: campaignPayload(campaign, items) };
  const text = `Access review "${campaign.name}" ${CAMPAIGN_HEADLINES[event]}: ${payload.campaign.decided} of ${items.length} items decided, due ${payload.campaign.dueAt.slice(0, 10)}`;
  notifyWebhookEvent(event, payload, () => ({
    text: text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"),
  }));
}

/** Sends the one reminder of each open campaign due within REMINDER_BEFORE_MS; returns how many went out. */
export async function sendDueReminders(now = new Date()): Promise<number> {
  const db = await getDb();
  const due = await takeDueReminders(db, now, new Date(now.getTime() + REMINDER_BEFORE_MS));
  if (due.length === 0) return 0;
  const items = await campaignItems(
    db,
    due.map((c) => c.id),
  );
  for (const campaign of due)
    announce(
      "campaign.reminder",
      campaign,
      items.filter((i) => i.campaignId === campaign.id),
    );
  return due.length;
}

/** Checks for due reminders every 15 minutes (and whenever the campaign list is read); returns the stop. */
export function startCampaignReminders(): () => Promise<void> {
  const timer = setInterval(() => {
    sendDueReminders().catch((error: unknown) => {
      console.error("[portcullis] access review reminders failed:", error);
    });
  }, 15 * 60_000);
  timer.unref();
  return async () => clearInterval(timer);
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

async function loadCampaign(id: string) {
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

async function resolveScope(
  db: Awaited<ReturnType<typeof getDb>>,
  names: string[],
  kind: "connection" | "group",
) {
  const found = kind === "connection" ? await connectionsByNames(db, names) : await groupsByNames(db, names);
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length > 0) throw badRequest(`unknown ${kind}: ${missing.join(", ")}`);
  return found;
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

async function applyRevoke(
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

/** The id of the group that owns (reviews) a connection, or null when admins do. */
export async function connectionOwnerGroupId(connectionId: string): Promise<string | null> {
  const owners = await connectionOwners(await getDb());
  return owners.find((c) => c.id === connectionId)?.ownerGroupId ?? null;
}

/** Sets or clears the group that owns (reviews) a connection. */
export async function setConnectionOwner(principal: Principal, connection: string, group: string | null) {
  assertAdmin(principal);
  const db = await getDb();
  const [conn] = await resolveScope(db, [connection], "connection");
  const [owner] = group ? await resolveScope(db, [group], "group") : [];
  if (!conn) throw notFound(`no connection named ${connection}`);
  await setConnectionOwnerRow(db, conn.id, owner?.id ?? null);
  await recordAuditEvent(actorOf(principal), "connection.owner", connection, { group });
  return { connection, ownerGroup: group };
}

export type { MatrixPage };

/** Answers one of the auditor's canned questions over recorded sessions and reviews. */
export async function askQuestion(principal: Principal, input: Record<string, unknown>) {
  assertAuditor(principal);
  const parsed = questionSchema.parse(input);
  try {
    return await answerQuestion(await getDb(), parsed);
  } catch (err) {
    if (err instanceof RangeError) throw badRequest(err.message);
    throw err;
  }
}

/** Choices for the matrix filters (auditors). */
export async function getMatrixFilterOptions(principal: Principal) {
  assertAuditor(principal);
  return filterOptions(await getDb());
}
