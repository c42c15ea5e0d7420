// Queries of discovered classifications and their per-connection settings (db/schema.ts dataClassifications,
// dataClassificationSettings). Counts and decisions only: no value is ever written here.
import "server-only";
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, lt, ne, or, sql } from "drizzle-orm";
import {
  type DataClassification,
  type DataClassificationSettings,
  dataClassificationSettings,
  dataClassifications,
} from "@/db/schema";
import { getDb } from "@/db/store";
import { type Counts, judge } from "./judge";

export interface ColumnKey {
  schemaName: string;
  tableName: string;
  columnName: string;
}

export async function listClassificationRows(connectionId: string): Promise<DataClassification[]> {
  const db = await getDb();
  return db
    .select()
    .from(dataClassifications)
    .where(eq(dataClassifications.connectionId, connectionId))
    .orderBy(
      asc(dataClassifications.schemaName),
      asc(dataClassifications.tableName),
      asc(dataClassifications.columnName),
    );
}

export async function findClassificationRow(connectionId: string, id: string) {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(dataClassifications)
    .where(and(eq(dataClassifications.connectionId, connectionId), eq(dataClassifications.id, id)));
  return row;
}

/** The rows that act as column rules: confirmed ones, and proposed ones when the connection applies them. */
export async function appliedClassificationRows(connectionId: string) {
  const db = await getDb();
  const [settings] = await db
    .select({ applyProposed: dataClassificationSettings.applyProposed })
    .from(dataClassificationSettings)
    .where(eq(dataClassificationSettings.connectionId, connectionId));
  const states: DataClassification["state"][] = settings?.applyProposed
    ? ["confirmed", "proposed"]
    : ["confirmed"];
  return db
    .select({
      schemaName: dataClassifications.schemaName,
      tableName: dataClassifications.tableName,
      columnName: dataClassifications.columnName,
      state: dataClassifications.state,
      type: dataClassifications.type,
      detectedType: dataClassifications.detectedType,
    })
    .from(dataClassifications)
    .where(
      and(eq(dataClassifications.connectionId, connectionId), inArray(dataClassifications.state, states)),
    )
    .orderBy(
      asc(dataClassifications.schemaName),
      asc(dataClassifications.tableName),
      asc(dataClassifications.columnName),
    );
}

export async function setDecision(
  connectionId: string,
  id: string,
  change: { state: DataClassification["state"]; type: string | null; decidedBy: string | null },
) {
  const db = await getDb();
  const [row] = await db
    .update(dataClassifications)
    .set({ ...change, decidedAt: change.decidedBy ? new Date() : null, updatedAt: new Date() })
    .where(and(eq(dataClassifications.connectionId, connectionId), eq(dataClassifications.id, id)))
    .returning();
  return row;
}

/**
 * Adds what was found in a column (a scan's sample replaces the sampled counts; results add to the learned
 * ones) and judges it again; a decided row keeps its decision.
 */
export async function recordFindings(
  connectionId: string,
  column: ColumnKey,
  found: { sampled?: { values: number; counts: Counts }; learned?: { values: number; counts: Counts } },
) {
  const db = await getDb();
  const [existing] = await db
    .select()
    .from(dataClassifications)
    .where(
      and(
        eq(dataClassifications.connectionId, connectionId),
        eq(dataClassifications.schemaName, column.schemaName),
        eq(dataClassifications.tableName, column.tableName),
        eq(dataClassifications.columnName, column.columnName),
      ),
    );
  const sampledValues = found.sampled?.values ?? existing?.sampledValues ?? 0;
  const sampledCounts = found.sampled?.counts ?? existing?.sampledCounts ?? {};
  const learnedValues = (existing?.learnedValues ?? 0) + (found.learned?.values ?? 0);
  const learnedCounts = { ...(existing?.learnedCounts ?? {}) };
  for (const [type, n] of Object.entries(found.learned?.counts ?? {}))
    learnedCounts[type] = (learnedCounts[type] ?? 0) + n;
  const all: Counts = { ...sampledCounts };
  for (const [type, n] of Object.entries(learnedCounts)) all[type] = (all[type] ?? 0) + n;
  const verdict = judge(sampledValues + learnedValues, all);
  if (!existing && verdict.detectedType === null) return undefined;
  const undecided = !existing || existing.state === "detected" || existing.state === "proposed";
  const values = {
    sampledValues,
    sampledCounts,
    learnedValues,
    learnedCounts,
    detectedType: verdict.detectedType,
    confidence: verdict.confidence,
    ...(undecided && { state: verdict.isProposal ? ("proposed" as const) : ("detected" as const) }),
    updatedAt: new Date(),
  };
  if (existing) {
    await db.update(dataClassifications).set(values).where(eq(dataClassifications.id, existing.id));
    return { ...existing, ...values };
  }
  const [inserted] = await db
    .insert(dataClassifications)
    .values({ id: randomUUID(), connectionId, ...column, ...values })
    .onConflictDoNothing()
    .returning();
  return inserted;
}

export async function readSettings(connectionId: string): Promise<DataClassificationSettings | undefined> {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(dataClassificationSettings)
    .where(eq(dataClassificationSettings.connectionId, connectionId));
  return row;
}

export async function writeApplyProposed(connectionId: string, applyProposed: boolean) {
  const db = await getDb();
  await db
    .insert(dataClassificationSettings)
    .values({ connectionId, applyProposed })
    .onConflictDoUpdate({
      target: dataClassificationSettings.connectionId,
      set: { applyProposed, updatedAt: new Date() },
    });
}

/** A scan left running longer than this (its console stopped) may be started again. */
const STALE_SCAN = sql`now() - interval '15 minutes'`;

/** Marks a scan running, unless one is; true when this caller owns the new scan. */
export async function claimScan(connectionId: string, by: string): Promise<boolean> {
  const db = await getDb();
  const start = {
    scanState: "running" as const,
    scanTablesDone: 0,
    scanTablesTotal: 0,
    scanTablesSkipped: 0,
    scanError: null,
    scanBy: by,
    scanStartedAt: new Date(),
    scanFinishedAt: null,
    updatedAt: new Date(),
  };
  const claimed = await db
    .insert(dataClassificationSettings)
    .values({ connectionId, ...start })
    .onConflictDoUpdate({
      target: dataClassificationSettings.connectionId,
      set: start,
      setWhere: or(
        ne(dataClassificationSettings.scanState, "running"),
        lt(dataClassificationSettings.scanStartedAt, STALE_SCAN),
      ),
    })
    .returning({ connectionId: dataClassificationSettings.connectionId });
  return claimed.length > 0;
}

export async function updateScan(
  connectionId: string,
  progress: Partial<
    Pick<
      DataClassificationSettings,
      | "scanState"
      | "scanTablesDone"
      | "scanTablesTotal"
      | "scanTablesSkipped"
      | "scanError"
      | "scanFinishedAt"
    >
  >,
) {
  const db = await getDb();
  await db
    .update(dataClassificationSettings)
    .set({ ...progress, updatedAt: new Date() })
    .where(eq(dataClassificationSettings.connectionId, connectionId));
}

/** Connections whose last scan started before `since` (or never), for the background scans. */
export async function connectionsDueForScan(connectionIds: string[], since: Date): Promise<string[]> {
  if (connectionIds.length === 0) return [];
  const db = await getDb();
  const rows = await db
    .select({ id: dataClassificationSettings.connectionId, at: dataClassificationSettings.scanStartedAt })
    .from(dataClassificationSettings)
    .where(inArray(dataClassificationSettings.connectionId, connectionIds));
  const last = new Map(rows.map((r) => [r.id, r.at]));
  return connectionIds.filter((id) => {
    const at = last.get(id);
    return !at || at < since;
  });
}
