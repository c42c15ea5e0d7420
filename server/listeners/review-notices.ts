/**
 * Telling a native client what became of the statement it had held: when its review is approved, denied, expires
 * or is cancelled (approvals' "review decided" signal, from any replica), the client connection that holds it, and
 * only that one (the review's session, the same requester, channel "native"), gets an asynchronous
 * NoticeResponse: what happened, who decided, their comment, and for an approval what to do (send the same
 * statement again on this connection before the approval expires). Nothing of the statement or its values is in
 * it: the review's id is, as in the ErrorResponse that held it.
 * PostgreSQL lets a NoticeResponse come at any time; to keep clear of every exchange under way (a query, an
 * extended-protocol batch before its Sync, a COPY), a notice goes out at once only when the client is idle (its
 * last message from us was ReadyForQuery and it sent nothing since), else right after its next ReadyForQuery
 * (NoticeGate). Not responsible for deciding reviews or for running the statement sent again (the pipeline).
 */
import "server-only";
import type { Review } from "@/db/schema";
import { type DecidedState, type ReviewDecided, readReview } from "@/server/approvals";
import { noticeResponse, type WireNotice } from "./wire";

const READY_FOR_QUERY = 0x5a; // 'Z'

/** While native clients are live, a replica expires overdue reviews this often (so their holders are told). */
export const REVIEW_EXPIRY_SWEEP_MS = 15_000;

/** Do these bytes end with what could be a ReadyForQuery ('Z', length 5, status)? Cheap; lastMessageType is sure. */
function mayEndWithReadyForQuery(bytes: Buffer): boolean {
  const at = bytes.length - 6;
  return at >= 0 && bytes[at] === READY_FOR_QUERY && bytes.readInt32BE(at + 1) === 5;
}

/** The type byte of the last whole backend message in these bytes (whole messages, as every send writes). */
export function lastMessageType(bytes: Buffer): number | undefined {
  let offset = 0;
  let type: number | undefined;
  while (offset + 5 <= bytes.length) {
    type = bytes[offset];
    offset += 1 + bytes.readInt32BE(offset + 1);
  }
  return type;
}

/**
 * Stands between a client and its socket: notices wait while an exchange is under way, and go out when the
 * client is idle (at once) or right after the ReadyForQuery that ends the exchange.
 */
export class NoticeGate {
  private idle = false;
  private waiting: Buffer[] = [];

  constructor(private readonly write: (bytes: Buffer) => void) {}

  /** What the client is sent through; ReadyForQuery last makes it idle, and waiting notices follow it. */
  readonly send = (bytes: Buffer) => {
    this.write(bytes);
    // Walking the frames is sure but costs per message (0.2 ms for 10,000 rows): only when the end looks right.
    if (!mayEndWithReadyForQuery(bytes) || lastMessageType(bytes) !== READY_FOR_QUERY) return;
    this.idle = true;
    if (this.waiting.length === 0) return;
    const notices = Buffer.concat(this.waiting);
    this.waiting = [];
    this.write(notices);
  };

  /** The client sent a message: an exchange is under way until our next ReadyForQuery. */
  received() {
    this.idle = false;
  }

  /** A NoticeResponse: sent now if the client is idle, else after the next ReadyForQuery. */
  notify(notice: Buffer) {
    if (this.idle) this.write(notice);
    else this.waiting.push(notice);
  }
}

/** An approver's comment, as one line of at most 300 characters with no control characters. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}

/**
 * Was this review a COPY ... FROM STDIN (the pipeline's decideCopyFromStdin names its reason so)? Its approval
 * is bound to the data, which the client sends again with the COPY.
 */
function isCopyFromStdin(review: Pick<Review, "reasons">): boolean {
  return review.reasons.some(
    (r) =>
      typeof r === "object" && r !== null && (r as { ruleName?: unknown }).ruleName === "COPY FROM STDIN",
  );
}

/** The notice for a review that reached this state (pure: from the review as stored). */
export function reviewDecisionNotice(
  review: Pick<Review, "id" | "class" | "decisions" | "expiresAt" | "reasons">,
  state: DecidedState,
  publicUrl: string,
): WireNotice {
  const held = `review ${review.id} of your ${review.class} statement`;
  const deciders = review.decisions.filter((d) => d.decision === (state === "denied" ? "deny" : "approve"));
  const by = deciders.map((d) => d.byLabel).join(", ");
  const comments = deciders
    .filter((d) => d.comment.trim() !== "")
    .map((d) => `${d.byLabel}: ${oneLine(d.comment)}`)
    .join("; ");
  const detail = { ...(comments && { detail: comments }) };
  const base = { severity: "NOTICE" as const, code: "00000" };
  if (state === "approved" && isCopyFromStdin(review)) {
    return {
      ...base,
      message: `Portcullis: ${held} was approved${by && ` by ${by}`}`,
      ...detail,
      hint: `to load it, send the same COPY with exactly the same data again on this connection before ${review.expiresAt.toISOString()}: it loads once`,
    };
  }
  if (state === "approved") {
    return {
      ...base,
      message: `Portcullis: ${held} was approved${by && ` by ${by}`}`,
      ...detail,
      hint: `to run it, send exactly the same statement (with the same values) again on this connection before ${review.expiresAt.toISOString()}: it runs once`,
    };
  }
  if (state === "denied") {
    return {
      ...base,
      message: `Portcullis: ${held} was denied${by && ` by ${by}`}: it will not run`,
      ...detail,
    };
  }
  if (state === "cancelled")
    return { ...base, message: `Portcullis: ${held} was cancelled: it will not run` };
  const approvedBefore = review.decisions.some((d) => d.decision === "approve");
  return {
    ...base,
    message: `Portcullis: ${held} expired${approvedBefore ? " (its approval was not used in time)" : " without a decision"}: it will not run`,
    hint: `sent again, it is held for a new review (${publicUrl}/inbox)`,
  };
}

/** A live client as review notices see it. */
export interface NoticeTarget {
  principalId: string;
  gate: NoticeGate;
}

/**
 * A review was decided somewhere: if the live client holding it (by its session) is here, and the review as
 * stored is that client's (same requester, channel "native") and in that state, the client is told.
 */
export async function tellReviewDecided(
  decided: ReviewDecided,
  clientOf: (sessionId: string) => NoticeTarget | undefined,
  publicUrl: string,
): Promise<void> {
  if (!clientOf(decided.sessionId)) return;
  const review = await readReview(decided.reviewId);
  const client = clientOf(decided.sessionId);
  if (!review || !client) return;
  if (review.sessionId !== decided.sessionId || review.channel !== "native") return;
  if (review.requesterId !== client.principalId || review.state !== decided.state) return;
  client.gate.notify(noticeResponse(reviewDecisionNotice(review, decided.state, publicUrl)));
}
