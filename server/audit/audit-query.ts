/**
 * The audit log as a person searches it: filters that fit in a URL (who, which kind of action, target text,
 * time range), one page of 50 newest first, and the whole filtered set as CSV or JSON for export.
 * Not responsible for writing events (recordAuditEvent) or checking the chain (server/integrity).
 */
import "server-only";
import { and, asc, desc, eq, gte, ilike, inArray, like, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type AuditEvent, auditEvents } from "@/db/schema";
import { getDb } from "@/db/store";
import { filterText } from "@/server/http/filter-text";
import { escapeLike, parseFilterTime } from "@/server/recording";

export const AUDIT_PAGE_SIZE = 50;
/** The most rows one export holds; narrow the filters for more. */
export const AUDIT_EXPORT_LIMIT = 50_000;

/** Kinds of action as the filter offers them: each is a set of action prefixes. */
export const AUDIT_KINDS = {
  signin: { label: "Sign-ins", prefixes: ["auth."] },
  user: { label: "Users and groups", prefixes: ["user.", "group."] },
  connection: { label: "Connections", prefixes: ["connection.", "masking."] },
  policy: { label: "Policies", prefixes: ["policy.", "command_rule."] },
  review: { label: "Reviews and decisions", prefixes: ["review."] },
  grant: { label: "Access grants", prefixes: ["grant."] },
  token: { label: "Service accounts and tokens", prefixes: ["service_account.", "token."] },
  session: { label: "Sessions and retention", prefixes: ["terminal.", "retention."] },
  webhook: { label: "Webhooks", prefixes: ["webhook."] },
} as const;

export type AuditKind = keyof typeof AUDIT_KINDS;

export const auditFiltersSchema = z.strictObject({
  /** text in the actor's label (email, service account, "system") */
  actor: filterText,
  kind: z
    .enum([...(Object.keys(AUDIT_KINDS) as [AuditKind, ...AuditKind[]]), ""])
    .optional()
    .transform((v) => v || undefined),
  /** text in the action name, e.g. "approve" */
  action: filterText,
  /** text in the target (a connection, a user, a group ...) */
  target: filterText,
  from: filterText,
  to: filterText,
  page: z.coerce.number().int().min(1).max(10_000).optional().default(1),
});

export type AuditFilters = z.output<typeof auditFiltersSchema>;

export function parseAuditFilters(
  params: URLSearchParams | Record<string, string | string[] | undefined>,
): AuditFilters {
  const raw: Record<string, string> = {};
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  for (const [key, value] of entries) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") raw[key] = first;
  }
  return auditFiltersSchema.parse(raw);
}

function conditionsFor(filters: AuditFilters): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  const contains = (value: string) => `%${escapeLike(value)}%`;
  if (filters.actor) where.push(ilike(auditEvents.actorLabel, contains(filters.actor)));
  if (filters.kind)
    where.push(
      or(...AUDIT_KINDS[filters.kind].prefixes.map((p) => like(auditEvents.action, `${escapeLike(p)}%`))),
    );
  if (filters.action) where.push(ilike(auditEvents.action, contains(filters.action)));
  if (filters.target) where.push(ilike(auditEvents.target, contains(filters.target)));
  if (filters.from) where.push(gte(auditEvents.at, parseFilterTime(filters.from, "from")));
  if (filters.to) where.push(lt(auditEvents.at, parseFilterTime(filters.to, "to")));
  return where.length > 0 ? and(...where) : undefined;
}

export interface AuditEventView {
  id: number;
  seq: number | null;
  at: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  hash: string | null;
}

export function toAuditEventView(row: AuditEvent): AuditEventView {
  return {
    id: row.id,
    seq: row.seq,
    at: row.at.toISOString(),
    actorId: row.actorId,
    actorLabel: row.actorLabel,
    action: row.action,
    target: row.target,
    details: row.details,
    hash: row.hash,
  };
}

export interface AuditPage {
  events: AuditEventView[];
  page: number;
  pageSize: number;
  hasMore: boolean;
}

/** One page of matching audit events, newest first. */
export async function queryAuditEvents(filters: AuditFilters): Promise<AuditPage> {
  const db = await getDb();
  const rows = await db
    .select()
    .from(auditEvents)
    .where(conditionsFor(filters))
    .orderBy(desc(auditEvents.id))
    .limit(AUDIT_PAGE_SIZE + 1)
    .offset((filters.page - 1) * AUDIT_PAGE_SIZE);
  return {
    events: rows.slice(0, AUDIT_PAGE_SIZE).map(toAuditEventView),
    page: filters.page,
    pageSize: AUDIT_PAGE_SIZE,
    hasMore: rows.length > AUDIT_PAGE_SIZE,
  };
}

/** Audit events that concern one session: its reviews and their decisions, and ends of it by an admin. */
export async function listSessionAuditEvents(
  sessionId: string,
  reviewIds: string[],
): Promise<AuditEventView[]> {
  const db = await getDb();
  const bySession = eq(sql`${auditEvents.details}->>'sessionId'`, sessionId);
  const rows = await db
    .select()
    .from(auditEvents)
    .where(
      reviewIds.length > 0
        ? or(bySession, inArray(sql`${auditEvents.details}->>'reviewId'`, reviewIds))
        : bySession,
    )
    .orderBy(asc(auditEvents.id));
  return rows.map(toAuditEventView);
}

export interface AuditExport {
  contentType: string;
  filename: string;
  body: string;
}

const CSV_COLUMNS = ["id", "seq", "at", "actor", "actor_id", "action", "target", "details", "hash"] as const;

/** A CSV cell: quoted when needed; text a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Every matching event (up to AUDIT_EXPORT_LIMIT), oldest first, as CSV or JSON. */
export async function exportAuditEvents(filters: AuditFilters, format: "csv" | "json"): Promise<AuditExport> {
  const db = await getDb();
  const rows = await db
    .select()
    .from(auditEvents)
    .where(conditionsFor(filters))
    .orderBy(asc(auditEvents.id))
    .limit(AUDIT_EXPORT_LIMIT);
  const events = rows.map(toAuditEventView);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  if (format === "json") {
    const { page: _page, ...applied } = filters;
    return {
      contentType: "application/json",
      filename: `audit-${stamp}.json`,
      body: JSON.stringify({ generatedAt: new Date().toISOString(), filters: applied, events }, null, 2),
    };
  }
  const lines = [CSV_COLUMNS.join(",")];
  for (const e of events) {
    const cells = [
      String(e.id),
      e.seq === null ? "" : String(e.seq),
      e.at,
      e.actorLabel,
      e.actorId ?? "",
      e.action,
      e.target,
      Object.keys(e.details).length > 0 ? JSON.stringify(e.details) : "",
      e.hash ?? "",
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  return {
    contentType: "text/csv; charset=utf-8",
    filename: `audit-${stamp}.csv`,
    body: `${lines.join("\r\n")}\r\n`,
  };
}
