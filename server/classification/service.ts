// Discovered classifications of a connection: the page's view (columns, counts, confidence, the scan's
// progress), an admin's decisions (confirm with a type, reject, reopen: each audited), the setting that applies
// proposals at once, scans on request and in the background, and the column rules the confirmed (and applied
// proposed) columns become for the masker (server/masking-config.ts reads them). Permission checks are the
// route's (policies:manage); values never pass through here, only counts.
import "server-only";
import { eq } from "drizzle-orm";
import { connections, type DataClassification } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { getConfig } from "@/server/config";
import { GatewayError, notFound } from "@/server/errors";
import type { ColumnRule } from "@/server/masking";
import { processSingleton } from "@/server/singleton";
import { invalidateStoreCaches } from "@/server/store-cache";
import { judge } from "./judge";
import { flushLearned } from "./learn";
import { runScan } from "./scan";
import type { ClassificationDecision, ClassificationSettingsInput } from "./schema";
import {
  appliedClassificationRows,
  claimScan,
  connectionsDueForScan,
  findClassificationRow,
  listClassificationRows,
  readSettings,
  setDecision,
  updateScan,
  writeApplyProposed,
} from "./store";

interface ConnectionRef {
  id: string;
  name: string;
}

export interface ClassificationView {
  id: string;
  schema: string;
  table: string;
  column: string;
  /** the pattern it acts as, once confirmed (or proposed and applied) */
  pattern: string;
  detectedType: string | null;
  confidence: number;
  sampledValues: number;
  sampledCounts: Record<string, number>;
  learnedValues: number;
  learnedCounts: Record<string, number>;
  state: DataClassification["state"];
  /** the type it is masked as: the confirmed one, or the detected one while a proposal is applied */
  type: string | null;
  isApplied: boolean;
  decidedBy: string | null;
  decidedAt: string | null;
}

export interface ScanView {
  state: "idle" | "running" | "done" | "failed";
  tablesDone: number;
  tablesTotal: number;
  tablesSkipped: number;
  error: string | null;
  by: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ClassificationOverview {
  applyProposed: boolean;
  scan: ScanView;
  classifications: ClassificationView[];
  limits: {
    sampleRows: number;
    maxTables: number;
    statementTimeoutMs: number;
    intervalMinutes: number | null;
  };
}

/** `schema.table.column` as a column rule pattern: exact, right-aligned (see server/masking/column-rules.ts). */
export function patternOf(row: Pick<DataClassification, "schemaName" | "tableName" | "columnName">): string {
  return `${row.schemaName}.${row.tableName}.${row.columnName}`;
}

/**
 * The column rule pattern of a column: its schema, table and column as three segments, right-aligned. A dot in a
 * name (the segment separator) becomes `*`, which matches it and may match more: a rule can be wider than its
 * column, never narrower.
 */
export function columnRulePattern(schema: string, table: string, column: string): string {
  return [schema, table, column].map((name) => name.replaceAll(".", "*")).join(".");
}

/** The column rules the connection's classifications act as (exact schema.table.column patterns). */
export async function classifiedColumnRules(connectionId: string): Promise<ColumnRule[]> {
  const rows = await appliedClassificationRows(connectionId);
  return rows.flatMap((r) => {
    const type = r.state === "confirmed" ? r.type : r.detectedType;
    if (!type) return [];
    return [{ pattern: columnRulePattern(r.schemaName, r.tableName, r.columnName), type }];
  });
}

function scanView(settings: Awaited<ReturnType<typeof readSettings>>): ScanView {
  return {
    state: settings?.scanState ?? "idle",
    tablesDone: settings?.scanTablesDone ?? 0,
    tablesTotal: settings?.scanTablesTotal ?? 0,
    tablesSkipped: settings?.scanTablesSkipped ?? 0,
    error: settings?.scanError ?? null,
    by: settings?.scanBy ?? null,
    startedAt: settings?.scanStartedAt?.toISOString() ?? null,
    finishedAt: settings?.scanFinishedAt?.toISOString() ?? null,
  };
}

function toView(row: DataClassification, applyProposed: boolean): ClassificationView {
  const isApplied = row.state === "confirmed" || (row.state === "proposed" && applyProposed);
  return {
    id: row.id,
    schema: row.schemaName,
    table: row.tableName,
    column: row.columnName,
    pattern: patternOf(row),
    detectedType: row.detectedType,
    confidence: row.confidence,
    sampledValues: row.sampledValues,
    sampledCounts: row.sampledCounts,
    learnedValues: row.learnedValues,
    learnedCounts: row.learnedCounts,
    state: row.state,
    type: row.state === "confirmed" ? row.type : isApplied ? row.detectedType : null,
    isApplied,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt?.toISOString() ?? null,
  };
}

export async function getClassificationOverview(connection: ConnectionRef): Promise<ClassificationOverview> {
  const [settings, rows] = await Promise.all([
    readSettings(connection.id),
    listClassificationRows(connection.id),
  ]);
  const applyProposed = settings?.applyProposed ?? false;
  const { sampleRows, maxTables, statementTimeoutMs, intervalMinutes } = getConfig().classification;
  return {
    applyProposed,
    scan: scanView(settings),
    classifications: rows.map((r) => toView(r, applyProposed)),
    limits: { sampleRows, maxTables, statementTimeoutMs, intervalMinutes: intervalMinutes ?? null },
  };
}

/** A reopened column is judged again at once, from the counts it has. */
function reopenedState(row: DataClassification): "proposed" | "detected" {
  const all: Record<string, number> = { ...row.sampledCounts };
  for (const [type, n] of Object.entries(row.learnedCounts)) all[type] = (all[type] ?? 0) + n;
  return judge(row.sampledValues + row.learnedValues, all).isProposal ? "proposed" : "detected";
}

export async function decideClassification(
  actor: Actor,
  connection: ConnectionRef,
  id: string,
  decision: ClassificationDecision,
): Promise<ClassificationView> {
  const row = await findClassificationRow(connection.id, id);
  if (!row) throw notFound("no such classification on this connection");
  if (decision.action === "confirm" && !decision.type && !row.detectedType) {
    throw new GatewayError("bad_request", "name the type to mask this column as");
  }
  if (decision.action !== "confirm" && decision.type) {
    throw new GatewayError("bad_request", "a type goes only with confirm");
  }
  const change =
    decision.action === "confirm"
      ? { state: "confirmed" as const, type: decision.type ?? row.detectedType, decidedBy: actor.label }
      : decision.action === "reject"
        ? { state: "rejected" as const, type: null, decidedBy: actor.label }
        : { state: reopenedState(row), type: null, decidedBy: null };
  const updated = await setDecision(connection.id, id, change);
  if (!updated) throw notFound("no such classification on this connection");
  // Audited, which also clears the masking caches: the decision applies to the next request.
  await recordAuditEvent(actor, `classification.${decision.action}`, connection.name, {
    column: patternOf(row),
    ...(change.type && { type: change.type }),
  });
  const settings = await readSettings(connection.id);
  return toView(updated, settings?.applyProposed ?? false);
}

export async function setClassificationSettings(
  actor: Actor,
  connection: ConnectionRef,
  input: ClassificationSettingsInput,
): Promise<void> {
  await writeApplyProposed(connection.id, input.applyProposed);
  await recordAuditEvent(actor, "classification.settings", connection.name, {
    applyProposed: input.applyProposed,
  });
}

const scans = processSingleton("classificationScans", () => new Set<Promise<void>>());

/** Starts a scan in the background (409 when one is running); the page follows its progress. */
export async function startScan(actor: Actor, connection: ConnectionRef): Promise<ScanView> {
  if (!(await claimScan(connection.id, actor.label))) {
    throw new GatewayError("conflict", `a scan of ${connection.name} is already running`);
  }
  try {
    await recordAuditEvent(actor, "classification.scan", connection.name);
  } catch (err) {
    // An unaudited scan does not run; the claim is let go so the next "Scan now" may.
    await updateScan(connection.id, { scanState: "failed", scanError: "the scan could not be audited" });
    throw err;
  }
  track(connection.id);
  return scanView(await readSettings(connection.id));
}

function track(connectionId: string) {
  const task = runScan(connectionId)
    .then(() => invalidateStoreCaches())
    .catch((err) =>
      console.error("[portcullis] classification scan failed:", err instanceof Error ? err.message : err),
    )
    .finally(() => scans.delete(task));
  scans.add(task);
}

/** Resolves when no scan started here is running and what was learned from results is written (tests). */
export async function settleClassification(): Promise<void> {
  while (scans.size > 0) await Promise.allSettled([...scans]);
  await flushLearned();
  await invalidateStoreCaches();
}

/** One pass of the background scans: each PostgreSQL connection not scanned within the interval, in turn. */
export async function scanDueConnections(): Promise<number> {
  const minutes = getConfig().classification.intervalMinutes;
  if (minutes === undefined) return 0;
  const db = await getDb();
  const ids = (
    await db.select({ id: connections.id }).from(connections).where(eq(connections.kind, "postgres"))
  ).map((r) => r.id);
  let scanned = 0;
  for (const id of await connectionsDueForScan(ids, new Date(Date.now() - minutes * 60_000))) {
    if (!(await claimScan(id, "background scan"))) continue;
    await runScan(id);
    await invalidateStoreCaches();
    scanned++;
  }
  return scanned;
}

/** Background scans (every CLASSIFICATION_SCAN_INTERVAL_MINUTES per connection); returns the stop function. */
export function startClassificationScans(): () => Promise<void> {
  if (getConfig().classification.intervalMinutes === undefined) return async () => {};
  let running: Promise<unknown> | undefined;
  const tick = () => {
    running ??= scanDueConnections()
      .catch((err) => console.error("[portcullis] background classification failed:", err))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(tick, 5 * 60_000);
  const timer = setInterval(tick, 10 * 60_000);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
    await flushLearned();
  };
}
