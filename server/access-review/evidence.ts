/**
 * The words of access reviews as types, and the pure rules over them: when standing access counts as unused,
 * what a revoke will do (shown to the reviewer before they confirm), and the matrix as CSV. No store access.
 */

import { describePath } from "@/lib/api";

/** One way a principal reaches a connection. */
export type AccessPath =
  | { via: "group"; group: string; since: string }
  | { via: "grant"; grantId: string; since: string; endsAt: string }
  | { via: "admin"; since: string };

/** One principal's access to one connection with the evidence of its use. */
export interface MatrixRow {
  principalId: string;
  principal: string;
  principalName: string;
  principalKind: "person" | "service";
  connectionId: string;
  connection: string;
  connectionKind: "postgres" | "ssh";
  paths: AccessPath[];
  /** earliest start of a current path */
  since: string;
  lastUsedAt: string | null;
  sessions30: number;
  sessions90: number;
  statements30: number;
  statements90: number;
  touchedTypes: string[];
  touchedColumns: string[];
  /** standing access (group or admin role) not used for the unused-days threshold */
  isUnused: boolean;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Standing access is a group membership or the admin role; a time-boxed grant ends by itself. */
export function isStanding(paths: readonly AccessPath[]): boolean {
  return paths.some((p) => p.via !== "grant");
}

/**
 * Flagged unused: standing access whose last use (or, never used, its start) is older than `days`.
 * Access granted yesterday and not used yet is not flagged.
 */
export function isUnusedAccess(
  row: { paths: readonly AccessPath[]; since: string; lastUsedAt: string | null },
  now: Date,
  days: number,
): boolean {
  if (!isStanding(row.paths)) return false;
  const reference = new Date(row.lastUsedAt ?? row.since).getTime();
  return now.getTime() - reference >= days * DAY_MS;
}

/** What revoking this access does, in words, before the reviewer confirms. */
export function revokeConsequence(
  principal: string,
  connection: string,
  paths: readonly AccessPath[],
  connectionKind: "postgres" | "ssh" = "ssh",
): string {
  const parts: string[] = [];
  const groups = paths.filter((p) => p.via === "group").map((p) => p.group);
  const grants = paths.filter((p) => p.via === "grant");
  if (groups.length > 0) {
    parts.push(
      `${principal} can no longer use ${connection} through ${groups.map((g) => `group ${g}`).join(", ")}; ` +
        `they stay in the group${groups.length > 1 ? "s" : ""} for other connections, and other members keep access`,
    );
  }
  if (grants.length > 0) {
    parts.push(
      grants.length === 1 ? "the time-boxed grant ends now" : `${grants.length} time-boxed grants end now`,
    );
  }
  if (paths.some((p) => p.via === "admin")) {
    parts.push(
      `${principal} is an admin: the admin role still reaches every connection (change it on Users)`,
    );
  }
  if (connectionKind === "ssh") parts.push(`a live terminal of ${principal} on ${connection} is ended`);
  return `${parts.join("; ")}.`;
}

/** How a path reads in a table cell or a CSV field (client-safe, shared with the browser). */
export { describePath };

function csvField(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const MATRIX_CSV_HEADER = [
  "principal",
  "kind",
  "connection",
  "access",
  "since",
  "last_used",
  "sessions_30d",
  "sessions_90d",
  "statements_30d",
  "statements_90d",
  "touched_types",
  "touched_columns",
  "unused",
];

export function matrixToCsv(rows: readonly MatrixRow[]): string {
  const lines = [MATRIX_CSV_HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.principal,
        r.principalKind,
        r.connection,
        r.paths.map(describePath).join("; "),
        r.since,
        r.lastUsedAt,
        r.sessions30,
        r.sessions90,
        r.statements30,
        r.statements90,
        r.touchedTypes.join(" "),
        r.touchedColumns.join(" "),
        r.isUnused ? "yes" : "no",
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Per-reviewer progress of a campaign: decided and total items for each reviewer group (null: admins). */
export function progressByReviewer(
  items: readonly { reviewerGroupName: string | null; decision: string | null }[],
): { reviewer: string; decided: number; total: number }[] {
  const map = new Map<string, { decided: number; total: number }>();
  for (const item of items) {
    const key = item.reviewerGroupName ? `group ${item.reviewerGroupName}` : "admins";
    const entry = map.get(key) ?? { decided: 0, total: 0 };
    entry.total++;
    if (item.decision) entry.decided++;
    map.set(key, entry);
  }
  return [...map.entries()]
    .map(([reviewer, counts]) => ({ reviewer, ...counts }))
    .sort((a, b) => a.reviewer.localeCompare(b.reviewer));
}

/** A date parameter: "YYYY-MM-DD" (start of that day, UTC) or an ISO date-time (UTC if it has no zone). */
export function parseDateParam(value: string, name: string): Date {
  const isDay = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const date = new Date(isDay ? `${value}T00:00:00Z` : hasZone ? value : `${value}Z`);
  if (Number.isNaN(date.getTime()))
    throw new RangeError(`${name} is not a date (use YYYY-MM-DD or an ISO date-time)`);
  return date;
}
