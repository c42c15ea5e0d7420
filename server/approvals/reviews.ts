/**
 * Reviews: inputs held for a human's approval. A review holds the exact input and its hash, why it was held,
 * who asked and when it expires. Approvers (admins, or the connection's approver groups) decide; nobody decides
 * their own request; a review that reaches its required approvals is "approved" and handed to the runner its
 * channel registered (runners.ts), which runs it once, exactly as submitted, for the requester, or sends it later
 * itself and finishes it (finishApprovedReview); a pending review expires after a set time. Every decision is an
 * audit event, a "reviews changed" signal to every replica (signals.ts) and a webhook event (notify.ts).
 * Not responsible for running anything, nor for which channels exist.
 */
import "server-only";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { and, asc, desc, eq, gt, gte, ilike, inArray, isNull, lt, ne, type SQL, sql } from "drizzle-orm";
import { connections, type Review, reviews, sessionEvents } from "@/db/schema";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { loadPrincipal } from "@/server/auth";
import { getConfig, getSettings } from "@/server/config";
import { GatewayError, notFound } from "@/server/errors";
import { actorOf, hasPermission, type Principal } from "@/server/principal";
import { appendSessionEvent, escapeLike } from "@/server/recording";
import { notifyReviewEvent } from "@/server/webhooks";
import { approvalSettings, approversFor } from "./approvers";
import { signalReviewDecided } from "./decisions";
import { approvedRunnerFor } from "./runners";
import type { ReviewFilters } from "./schema";
import { signalReviewsChanged } from "./signals";

export type { Review };

export const REVIEW_TTL_MS = getSettings().reviewTtlMs;

export function hashInput(input: string): string {
  return createHash("sha256").update(input, "utf8").digest("hex");
}

/**
 * The exact parameter values of a held statement, as a keyed hash (HMAC-SHA-256 under a key derived from
 * MASTER_KEY): a re-sent statement is let through only with these values, and the store cannot be searched for
 * a guessed value (a plain hash of a card number or a short code could be). The values themselves are not kept.
 */
export function hashParameters(values: readonly (string | null)[]): string {
  const key = createHmac("sha256", getConfig().masterKey).update("portcullis review parameters v1").digest();
  return createHmac("sha256", key).update(JSON.stringify(values), "utf8").digest("hex");
}

/** An input to hold: bound to this exact input, in the requester's session. */
export interface ReviewRequest {
  principal: Principal;
  connection: { id: string; name: string };
  sessionId: string;
  channel: string;
  input: string;
  class: string;
  /** the decision's reasons; review rules that name approvers decide who approves */
  reasons: unknown[];
  note?: string;
  /**
   * A statement's parameter values: `shown` as recorded (masked) for the approvers, `hash` from hashParameters
   * binding an approval to the exact values.
   */
  parameters?: { shown: (string | null)[]; hash: string };
}

export async function createReview(options: ReviewRequest): Promise<string> {
  const id = randomUUID();
  const db = await getDb();
  const [conn] = await db
    .select({ options: connections.options })
    .from(connections)
    .where(eq(connections.id, options.connection.id));
  const approvers = approversFor(options.reasons, conn?.options ?? {});
  const [created] = await db
    .insert(reviews)
    .values({
      id,
      sessionId: options.sessionId,
      requesterId: options.principal.id,
      requesterLabel: actorOf(options.principal).label,
      connectionId: options.connection.id,
      connectionName: options.connection.name,
      input: options.input,
      inputHash: hashInput(options.input),
      class: options.class,
      reasons: options.reasons,
      note: options.note ?? "",
      channel: options.channel,
      ...(options.parameters && {
        parameters: options.parameters.shown,
        parametersHash: options.parameters.hash,
      }),
      approvalsRequired: approvers.approvalsRequired,
      approverGroups: approvers.approverGroups,
      expiresAt: new Date(Date.now() + REVIEW_TTL_MS),
    })
    .returning();
  await recordAuditEvent(actorOf(options.principal), "review.create", options.connection.name, {
    reviewId: id,
    class: options.class,
  });
  signalReviewsChanged();
  if (created) notifyReviewEvent("review.created", created);
  return id;
}

/**
 * A pending review expires at its expiresAt; so does an approved one its channel took to send later and did not
 * send by then (the approval starts a new period: decideReview).
 */
async function expireOverdue() {
  const db = await getDb();
  const expired = await db
    .update(reviews)
    .set({ state: "expired", decidedAt: new Date() })
    .where(and(inArray(reviews.state, ["pending", "approved"]), lt(reviews.expiresAt, new Date())))
    .returning();
  if (expired.length === 0) return;
  signalReviewsChanged();
  for (const row of expired) {
    notifyReviewEvent("review.expired", row);
    void signalReviewDecided(row, "expired");
  }
}

/** Expires what is overdue now (its holders told through signalReviewDecided); for a channel's own sweep. */
export async function expireOverdueReviews(): Promise<void> {
  await expireOverdue();
}

/**
 * May this principal decide this review? Admins always; else members of the approver groups fixed on the review
 * (reviews held before approvers were recorded, or with none, fall back to the connection's current groups).
 */
async function mayApprove(
  principal: Principal,
  review: Pick<Review, "connectionId" | "approverGroups">,
): Promise<boolean> {
  if (principal.kind !== "person") return false;
  if (hasPermission(principal, "users:manage")) return true;
  let approverGroups = review.approverGroups;
  if (approverGroups.length === 0) {
    const db = await getDb();
    const [conn] = await db
      .select({ options: connections.options })
      .from(connections)
      .where(eq(connections.id, review.connectionId));
    approverGroups = approvalSettings(conn?.options ?? {}).approverGroups;
  }
  return principal.groups.some((g) => approverGroups.includes(g.name));
}

export interface ReviewView {
  id: string;
  state: Review["state"];
  requester: string;
  requesterId: string;
  connection: string;
  input: string;
  class: string;
  reasons: unknown[];
  note: string;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  approvalsRequired: number;
  approverGroups: string[];
  decisions: Review["decisions"];
  /** a held statement's parameter values ($1, $2...), masked as recorded; null when it has none */
  parameters: (string | null)[] | null;
  sessionId: string | null;
  /** Where it was asked: "editor", "api", "mcp" (SQL) or "terminal" (a command line). */
  channel: string;
  canDecide: boolean;
  isMine: boolean;
}

async function toView(row: Review, principal: Principal): Promise<ReviewView> {
  const isMine = row.requesterId === principal.id;
  return {
    id: row.id,
    state: row.state,
    requester: row.requesterLabel,
    requesterId: row.requesterId,
    connection: row.connectionName,
    input: row.input,
    class: row.class,
    reasons: row.reasons,
    note: row.note,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
    approvalsRequired: row.approvalsRequired,
    approverGroups: row.approverGroups,
    decisions: row.decisions,
    parameters: row.parameters ?? null,
    sessionId: row.sessionId,
    channel: row.channel,
    isMine,
    canDecide:
      row.state === "pending" &&
      !isMine &&
      !row.decisions.some((d) => d.by === principal.id) &&
      (await mayApprove(principal, row)),
  };
}

const HISTORY_LIMIT = 200;
const DAY_MS = 24 * 60 * 60 * 1000;
const likeContaining = (value: string) => `%${escapeLike(value)}%`;

function historyConditions(filters: ReviewFilters): SQL[] {
  const where: SQL[] = [];
  if (filters.state) where.push(eq(reviews.state, filters.state));
  if (filters.connection) where.push(eq(reviews.connectionName, filters.connection));
  if (filters.requester) where.push(ilike(reviews.requesterLabel, likeContaining(filters.requester)));
  if (filters.text) where.push(ilike(reviews.input, likeContaining(filters.text)));
  if (filters.from) where.push(gte(reviews.createdAt, new Date(`${filters.from}T00:00:00Z`)));
  if (filters.to) where.push(lt(reviews.createdAt, new Date(Date.parse(`${filters.to}T00:00:00Z`) + DAY_MS)));
  return where;
}

/**
 * Pending reviews this principal may decide, newest first; their own requests; or (history) the decided ones they
 * may see (all with audit:read, else those they asked for or decided), narrowed by the filters.
 */
export async function listReviews(
  principal: Principal,
  scope: "inbox" | "history" | "mine",
  filters: ReviewFilters = {},
) {
  await expireOverdue();
  const db = await getDb();
  const where =
    scope === "mine"
      ? and(eq(reviews.requesterId, principal.id), ...historyConditions(filters))
      : scope === "inbox"
        ? and(eq(reviews.state, "pending"), ne(reviews.requesterId, principal.id))
        : and(
            filters.state ? undefined : ne(reviews.state, "pending"),
            ...historyConditions(filters),
            filters.decidedByMe
              ? sql`${reviews.decisions} @> ${JSON.stringify([{ by: principal.id }])}::jsonb`
              : undefined,
            hasPermission(principal, "audit:read")
              ? undefined
              : sql`(${reviews.requesterId} = ${principal.id} or ${reviews.decisions} @> ${JSON.stringify([{ by: principal.id }])}::jsonb)`,
          );
  const rows = await db
    .select()
    .from(reviews)
    .where(where)
    .orderBy(desc(reviews.createdAt))
    .limit(HISTORY_LIMIT);
  const views = await Promise.all(rows.map((r) => toView(r, principal)));
  return scope === "inbox" ? views.filter((v) => v.canDecide) : views;
}

export async function countInbox(principal: Principal): Promise<number> {
  return (await listReviews(principal, "inbox")).length;
}

export async function getReview(principal: Principal, id: string) {
  await expireOverdue();
  const db = await getDb();
  const [row] = await db.select().from(reviews).where(eq(reviews.id, id));
  if (!row) throw notFound("no such review");
  const view = await toView(row, principal);
  if (!view.isMine && !hasPermission(principal, "audit:read") && !(await mayApprove(principal, row))) {
    throw notFound("no such review");
  }
  // The requester reads the (masked) outcome of an executed review here.
  let result: Record<string, unknown> | undefined;
  if ((row.state === "executed" || row.state === "failed") && row.sessionId) {
    const [event] = await db
      .select({ data: sessionEvents.data })
      .from(sessionEvents)
      .where(
        and(
          eq(sessionEvents.sessionId, row.sessionId),
          eq(sessionEvents.type, "result"),
          sql`${sessionEvents.data}->>'reviewId' = ${id}`,
        ),
      )
      .limit(1);
    result = event?.data;
  }
  return { ...view, ...(result && { result }) };
}

export async function decideReview(
  principal: Principal,
  id: string,
  decision: "approve" | "deny",
  comment: string,
) {
  await expireOverdue();
  const db = await getDb();
  const [row] = await db.select().from(reviews).where(eq(reviews.id, id));
  if (!row) throw notFound("no such review");
  if (row.requesterId === principal.id)
    throw new GatewayError("forbidden", "you cannot decide your own request");
  if (!(await mayApprove(principal, row))) {
    // Someone who may not even see the review learns nothing about it: the same answer as for no review.
    if (!hasPermission(principal, "audit:read")) throw notFound("no such review");
    throw new GatewayError("forbidden", "you are not an approver for this request");
  }
  if (row.state !== "pending") throw new GatewayError("conflict", `this review is already ${row.state}`);
  if (row.decisions.some((d) => d.by === principal.id))
    throw new GatewayError("conflict", "you already decided this review");
  const entry = {
    by: principal.id,
    byLabel: actorOf(principal).label,
    at: new Date().toISOString(),
    decision,
    comment,
  };
  const approvals =
    row.decisions.filter((d) => d.decision === "approve").length + (decision === "approve" ? 1 : 0);
  const next = decision === "deny" ? "denied" : approvals >= row.approvalsRequired ? "approved" : "pending";
  // Compare-and-set on the state and the decisions so two approvers racing cannot both run it.
  const updated = await db
    .update(reviews)
    .set({
      decisions: [...row.decisions, entry],
      state: next,
      ...(next !== "pending" && { decidedAt: new Date() }),
      // An approval its channel sends later (a native client's re-sent statement) is usable for a new period.
      ...(next === "approved" && { expiresAt: new Date(Date.now() + REVIEW_TTL_MS) }),
    })
    .where(
      and(
        eq(reviews.id, id),
        eq(reviews.state, "pending"),
        sql`jsonb_array_length(${reviews.decisions}) = ${row.decisions.length}`,
      ),
    )
    .returning();
  if (updated.length === 0) throw new GatewayError("conflict", "the review changed meanwhile; reload it");
  await recordAuditEvent(actorOf(principal), `review.${decision}`, row.connectionName, {
    reviewId: id,
    comment,
    state: next,
  });
  signalReviewsChanged();
  const [decided] = updated;
  if (decided && next !== "pending") notifyReviewEvent(`review.${next}`, decided);
  if (next === "approved" && decided) await runApprovedReview(decided);
  // After the runner: an approval its channel could not take (the review failed) is not told as one.
  if (decided && next !== "pending") await signalReviewDecided(decided, next);
  return getReview(principal, id);
}

/**
 * Emits "approved": the runner the review's channel registered runs it for the requester (or takes it to send
 * later). No runner, no requester, no session: the review fails with why, recorded in the requester's session.
 */
async function runApprovedReview(row: Review) {
  let state: "executed" | "failed" | "handed_over" = "failed";
  try {
    const runner = approvedRunnerFor(row.channel);
    if (!runner)
      throw new GatewayError("unavailable", `nothing in this console runs approved ${row.channel} requests`);
    const requester = await loadPrincipal(row.requesterId, "session");
    if (!requester) throw new GatewayError("forbidden", "the requester's account is gone or disabled");
    if (!row.sessionId) throw new GatewayError("conflict", "the review has no session to record into");
    state = await runner({ review: row, requester });
  } catch (err) {
    if (row.sessionId) {
      await appendSessionEvent(row.sessionId, "result", {
        reviewId: row.id,
        status: "failed",
        error: err instanceof GatewayError ? err.message : "the approved request could not run",
      });
    }
    if (!(err instanceof GatewayError)) console.error("[portcullis] approved review failed:", err);
  }
  if (state === "handed_over") return;
  const db = await getDb();
  const [finished] = await db.update(reviews).set({ state }).where(eq(reviews.id, row.id)).returning();
  signalReviewsChanged();
  if (finished) notifyReviewEvent(`review.${state}`, finished);
}

/** A pending, approved or decided review as the gateway sees it (no permission check: for the terminal). */
export async function readReview(id: string): Promise<Review | undefined> {
  await expireOverdue();
  const db = await getDb();
  const [row] = await db.select().from(reviews).where(eq(reviews.id, id));
  return row;
}

/**
 * Marks an approved review its channel took to send later (runners.ts, "handed_over") executed or failed (with
 * why). Compare-and-set on "approved", so it is sent at most once; false when the review was no longer approved.
 */
export async function finishApprovedReview(
  id: string,
  state: "executed" | "failed",
  error?: string,
): Promise<boolean> {
  const db = await getDb();
  const [finished] = await db
    .update(reviews)
    .set({ state })
    .where(and(eq(reviews.id, id), eq(reviews.state, "approved")))
    .returning();
  if (!finished) return false;
  if (error && finished.sessionId) {
    await appendSessionEvent(finished.sessionId, "result", { reviewId: id, status: "failed", error });
  }
  signalReviewsChanged();
  notifyReviewEvent(`review.${state}`, finished);
  return true;
}

/** Which approved review a re-sent input may use: the same session, requester, channel, input and values. */
export interface ApprovedInput {
  sessionId: string;
  requesterId: string;
  channel: string;
  input: string;
  /** hashParameters of the values sent now; undefined for a statement without parameters */
  parametersHash?: string;
}

/**
 * Takes an approval its channel handed over ("approved", not expired) for this exact input: compare-and-set to
 * "executed", so it is used at most once even by two clients racing. The review, or undefined when there is none.
 * The caller runs it then and calls settleClaimedReview if it failed.
 */
export async function claimApprovedReview(wanted: ApprovedInput): Promise<Review | undefined> {
  await expireOverdue();
  const db = await getDb();
  const matches = and(
    eq(reviews.state, "approved"),
    eq(reviews.sessionId, wanted.sessionId),
    eq(reviews.requesterId, wanted.requesterId),
    eq(reviews.channel, wanted.channel),
    eq(reviews.inputHash, hashInput(wanted.input)),
    wanted.parametersHash === undefined
      ? isNull(reviews.parametersHash)
      : eq(reviews.parametersHash, wanted.parametersHash),
    gt(reviews.expiresAt, new Date()),
  );
  const [candidate] = await db
    .select({ id: reviews.id })
    .from(reviews)
    .where(matches)
    .orderBy(asc(reviews.createdAt))
    .limit(1);
  if (!candidate) return undefined;
  const [claimed] = await db
    .update(reviews)
    .set({ state: "executed" })
    .where(and(eq(reviews.id, candidate.id), matches))
    .returning();
  if (!claimed || claimed.input !== wanted.input) return undefined;
  signalReviewsChanged();
  notifyReviewEvent("review.executed", claimed);
  return claimed;
}

/** A claimed review whose run failed on the target: "failed" (its result, with why, is in the session). */
export async function settleClaimedReview(id: string): Promise<void> {
  const db = await getDb();
  const [failed] = await db
    .update(reviews)
    .set({ state: "failed" })
    .where(and(eq(reviews.id, id), eq(reviews.state, "executed")))
    .returning();
  if (!failed) return;
  signalReviewsChanged();
  notifyReviewEvent("review.failed", failed);
}

export async function cancelReview(principal: Principal, id: string) {
  const db = await getDb();
  const updated = await db
    .update(reviews)
    .set({ state: "cancelled", decidedAt: new Date() })
    .where(and(eq(reviews.id, id), eq(reviews.requesterId, principal.id), eq(reviews.state, "pending")))
    .returning();
  const [cancelled] = updated;
  if (!cancelled) throw new GatewayError("conflict", "only your own pending request can be cancelled");
  await recordAuditEvent(actorOf(principal), "review.cancel", cancelled.connectionName, {
    reviewId: id,
  });
  signalReviewsChanged();
  notifyReviewEvent("review.cancelled", cancelled);
  await signalReviewDecided(cancelled, "cancelled");
}
