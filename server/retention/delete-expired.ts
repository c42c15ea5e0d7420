/**
 * Retention: recordings of sessions that ended more than RETENTION_DAYS ago are deleted with their events
 * (the events go with the session row), and each run that deletes something says so in the audit log, with
 * the count and the cutoff. Live sessions are never deleted, however old. Not responsible for the audit log's
 * own rows, which are kept.
 */
import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf } from "@/db/rows";
import { sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent, SYSTEM_ACTOR } from "@/server/audit";
import { getConfig } from "@/server/config";

const DAY_MS = 24 * 60 * 60 * 1000;
const BATCH = 500;
const HOUR_MS = 60 * 60 * 1000;

export interface RetentionRun {
  deleted: number;
  cutoff: Date;
  days: number;
}

/**
 * Deletes ended and failed sessions whose end (or last activity) is before now minus `days`, in batches.
 * `isAlwaysAudited` writes the audit event even when nothing was deleted (a run an operator asked for).
 */
export async function deleteExpiredSessions(options: {
  days: number;
  now?: Date;
  actor?: Actor;
  isAlwaysAudited?: boolean;
}): Promise<RetentionRun> {
  const db = await getDb();
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.days * DAY_MS);
  let deleted = 0;
  for (;;) {
    // skip locked: replicas running the job at once delete disjoint batches.
    const rows = rowsOf<{ id: string }>(
      await db.execute(sql`
        delete from ${sessions} where id in (
          select id from ${sessions}
          where state <> 'live' and coalesce(ended_at, last_activity_at) < ${cutoff.toISOString()}::timestamptz
          order by started_at
          limit ${BATCH}
          for update skip locked)
        returning id`),
    );
    deleted += rows.length;
    if (rows.length < BATCH) break;
  }
  if (deleted > 0 || options.isAlwaysAudited) {
    await recordAuditEvent(options.actor ?? SYSTEM_ACTOR, "retention.delete", "sessions", {
      deleted,
      cutoff: cutoff.toISOString(),
      retentionDays: options.days,
    });
  }
  return { deleted, cutoff, days: options.days };
}

/** Runs retention a minute after start and then hourly, when RETENTION_DAYS is set; returns a stop function. */
export function startRetentionJob(): () => Promise<void> {
  const days = getConfig().retentionDays;
  if (days === undefined) return async () => {};
  const run = () => {
    deleteExpiredSessions({ days }).catch((error: unknown) => {
      console.error("[portcullis] retention run failed:", error);
    });
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, HOUR_MS);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
