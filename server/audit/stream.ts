/**
 * The audit stream a SIEM pulls: audit events and what sessions did (statements and terminal commands with
 * their decisions, and which masked types each result touched), one JSON object a line, in order, resumable from
 * a cursor. Every line is built from a list of fields, never by copying a recorded event: result rows, masked
 * values and terminal input never leave here, only what was decided and which kinds of data were masked. A
 * statement leaves with its shape, not its values (literals and comments replaced by PostgreSQL's scanner, as in
 * webhook payloads), and commands and reasons pass the detectors.
 * Ordering: audit events follow their hash chain's seq, which commits in order, so a reader never skips one;
 * session events are read once they are a few seconds old, so a statement still being written is not skipped
 * either. Not responsible for pushing (the audit.event webhook, server/approvals/notify.ts) nor for searching
 * the log (audit-query.ts).
 */
import "server-only";
import { and, asc, eq, gt, inArray, isNotNull, lt } from "drizzle-orm";
import { auditEvents, sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { badRequest } from "@/server/errors";
import { defaultMaskingConfig, type MaskingConfig, maskStatementLiterals, maskText } from "@/server/masking";

/** Lines in one reply at most; the default when the caller does not say. */
export const STREAM_MAX_LIMIT = 1000;
export const STREAM_DEFAULT_LIMIT = 200;
/** A session event is streamed once it is this old (it was committed in the same statement that wrote it). */
export const SESSION_EVENT_SETTLE_MS = 2000;

export interface StreamCursor {
  /** the last audit event's chain seq streamed */
  auditSeq: number;
  /** the last session event's id streamed */
  sessionEventId: number;
}

const CURSOR = /^v1\.(\d{1,15})\.(\d{1,15})$/;

export function streamCursorText(cursor: StreamCursor): string {
  return `v1.${cursor.auditSeq}.${cursor.sessionEventId}`;
}

/**
 * The `after` parameter: empty for the beginning, else a cursor a previous line or reply gave. `unknown` names
 * query parameters the caller sent that the stream does not take (a typo must not read from the beginning).
 */
export function parseStreamCursor(after: string | null, unknown: string[] = []): StreamCursor {
  if (unknown.length > 0)
    throw badRequest(`unknown query parameter ${unknown.join(", ")}: the stream takes after and limit`);
  if (after === null || after === "") return { auditSeq: 0, sessionEventId: 0 };
  const match = CURSOR.exec(after);
  if (!match)
    throw badRequest("after must be a cursor from a previous reply (a line's cursor or X-Next-Cursor)");
  return { auditSeq: Number(match[1]), sessionEventId: Number(match[2]) };
}

export function parseLimit(limit: string | null): number {
  if (limit === null || limit === "") return STREAM_DEFAULT_LIMIT;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > STREAM_MAX_LIMIT)
    throw badRequest(`limit must be a whole number from 1 to ${STREAM_MAX_LIMIT}`);
  return n;
}

export type StreamLine =
  | {
      type: "audit";
      cursor: string;
      at: string;
      actor: { id: string | null; label: string };
      action: string;
      target: string;
      details: Record<string, unknown>;
      seq: number;
      hash: string | null;
    }
  | {
      type: "statement" | "command" | "result";
      cursor: string;
      at: string;
      eventId: number;
      session: {
        id: string;
        who: { id: string | null; label: string; kind: "person" | "service" };
        connection: string;
        channel: string;
      };
      [field: string]: unknown;
    };

const SESSION_TYPES = ["statement", "command", "result"] as const;

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The detectors for text that leaves the console: every type on, values shown as labels (as webhooks do). */
const outbound: MaskingConfig = { ...defaultMaskingConfig(""), styles: {} };
const detected = (value: string | undefined) =>
  value === undefined ? undefined : maskText(value, outbound).text;

/** The decision's reasons without the statement or command text they quote (the line has it once). */
function reasonsOf(value: unknown) {
  if (!Array.isArray(value)) return [];
  return value.map((r: Record<string, unknown>) => ({
    action: text(r.action),
    class: text(r.class),
    rule: text(r.ruleName) ?? null,
    message: detected(text(r.message)),
  }));
}

/** What a session event says to an auditor: the fields named here and nothing else. */
async function sessionFields(type: string, data: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (type === "statement")
    return {
      statement: await maskStatementLiterals(text(data.input) ?? "", outbound),
      class: text(data.class),
      decision: text(data.decision),
      reasons: reasonsOf(data.reasons),
      ...(text(data.reviewId) && { reviewId: data.reviewId }),
    };
  if (type === "command")
    return {
      command: data.isHidden === true ? null : (detected(text(data.command)) ?? ""),
      isHidden: data.isHidden === true,
      decision: text(data.decision),
      reasons: reasonsOf(data.reasons),
    };
  const results = Array.isArray(data.results) ? (data.results as Record<string, unknown>[]) : [];
  return {
    statementEventId: typeof data.statementEventId === "number" ? data.statementEventId : null,
    status: text(data.status),
    rowCount: typeof data.rowCount === "number" ? data.rowCount : null,
    maskedTypes: [
      ...new Set(
        results.flatMap((r) =>
          Array.isArray(r.maskedTypes) ? r.maskedTypes.filter((t) => typeof t === "string") : [],
        ),
      ),
    ].sort(),
  };
}

/** The next lines after the cursor, oldest first, and the cursor after the last of them. */
export async function readAuditStream(
  after: StreamCursor,
  limit: number,
  now = Date.now(),
): Promise<{ lines: StreamLine[]; next: StreamCursor }> {
  const db = await getDb();
  const [audits, events] = await Promise.all([
    db
      .select()
      .from(auditEvents)
      .where(and(isNotNull(auditEvents.seq), gt(auditEvents.seq, after.auditSeq)))
      .orderBy(asc(auditEvents.seq))
      .limit(limit),
    db
      .select({ event: sessionEvents, session: sessions })
      .from(sessionEvents)
      .innerJoin(sessions, eq(sessions.id, sessionEvents.sessionId))
      .where(
        and(
          gt(sessionEvents.id, after.sessionEventId),
          inArray(sessionEvents.type, [...SESSION_TYPES]),
          lt(sessionEvents.at, new Date(now - SESSION_EVENT_SETTLE_MS)),
        ),
      )
      .orderBy(asc(sessionEvents.id))
      .limit(limit),
  ]);
  const cursor = { ...after };
  const lines: StreamLine[] = [];
  let a = 0;
  let s = 0;
  // Two ordered sources merged by time; each is consumed as a prefix, so the cursor never passes a line unread.
  while (lines.length < limit && (a < audits.length || s < events.length)) {
    const audit = audits[a];
    const event = events[s];
    if (audit && (!event || audit.at.getTime() <= event.event.at.getTime())) {
      a++;
      cursor.auditSeq = audit.seq ?? cursor.auditSeq;
      lines.push({
        type: "audit",
        cursor: streamCursorText(cursor),
        at: audit.at.toISOString(),
        actor: { id: audit.actorId, label: audit.actorLabel },
        action: audit.action,
        target: audit.target,
        details: audit.details,
        seq: audit.seq ?? 0,
        hash: audit.hash,
      });
    } else if (event) {
      s++;
      cursor.sessionEventId = event.event.id;
      const { session } = event;
      lines.push({
        type: event.event.type as "statement" | "command" | "result",
        cursor: streamCursorText(cursor),
        at: event.event.at.toISOString(),
        eventId: event.event.id,
        session: {
          id: session.id,
          who: { id: session.principalId, label: session.principalLabel, kind: session.principalKind },
          connection: session.connectionName,
          channel: session.channel,
        },
        ...(await sessionFields(event.event.type, event.event.data)),
      });
    }
  }
  return { lines, next: cursor };
}
