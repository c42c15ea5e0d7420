// Learning from results as they are masked: for each result column the target reports as a plain table column
// (table OID and attribute number), how many cells were read and how many were masked as each type. Counts are
// gathered in memory and written in the background (within 30 s, or at once when many columns wait), resolving attribute numbers to names in the target's catalog. Never a value; a failure here
// never touches the request that produced the result. Not responsible for masking.
import "server-only";
import { processSingleton } from "@/server/singleton";
import { queryCatalog } from "@/server/targets/postgres";
import type { Counts } from "./judge";
import { recordFindings } from "./store";

interface Pending {
  connectionId: string;
  table: string;
  attnum: number;
  values: number;
  counts: Counts;
}

const FLUSH_MS = 30_000;
const MAX_PENDING = 5000;

const state = processSingleton("classificationLearning", () => ({
  pending: new Map<string, Pending>(),
  timer: undefined as NodeJS.Timeout | undefined,
  flushing: undefined as Promise<void> | undefined,
}));

export interface LearnedResult {
  /** "schema.table" per column when the target reports one */
  columns: { table?: string }[];
  attnums?: number[];
  rowCount: number;
  masked: readonly (readonly [number, number, string])[];
}

/** Notes what was masked in results (called once per request, after masking); never throws. */
export function learnFromResults(connectionId: string, results: readonly LearnedResult[]): void {
  try {
    noteResults(connectionId, results);
  } catch (err) {
    console.error("[portcullis] learning from a result failed:", err instanceof Error ? err.message : err);
  }
}

function noteResults(connectionId: string, results: readonly LearnedResult[]): void {
  for (const result of results) {
    if (!result.attnums || result.rowCount === 0) continue;
    // A plain indexed loop: a 100,000-row result can carry hundreds of thousands of masked cells.
    const perColumn: (Counts | undefined)[] = [];
    const { masked } = result;
    for (let i = 0; i < masked.length; i++) {
      const cell = masked[i]!;
      const col = cell[1];
      const type = cell[2];
      let counts = perColumn[col];
      if (counts === undefined) {
        counts = {};
        perColumn[col] = counts;
      }
      counts[type] = (counts[type] ?? 0) + 1;
    }
    for (const [col, column] of result.columns.entries()) {
      const attnum = result.attnums[col] ?? 0;
      if (!column.table || attnum <= 0) continue;
      const key = `${connectionId}\u0000${column.table}\u0000${attnum}`;
      const entry = state.pending.get(key) ?? {
        connectionId,
        table: column.table,
        attnum,
        values: 0,
        counts: {},
      };
      entry.values += result.rowCount;
      for (const [type, n] of Object.entries(perColumn[col] ?? {}))
        entry.counts[type] = (entry.counts[type] ?? 0) + n;
      state.pending.set(key, entry);
    }
  }
  if (state.pending.size >= MAX_PENDING) void flushLearned();
  else if (state.pending.size > 0 && !state.timer) {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void flushLearned();
    }, FLUSH_MS);
    state.timer.unref();
  }
}

/** Writes what was learned so far (tests and shutdown call it; the timer otherwise). */
export async function flushLearned(): Promise<void> {
  await state.flushing;
  // Only columns where something was masked are written: the others have nothing to learn from.
  const batch = [...state.pending.values()].filter((p) => Object.keys(p.counts).length > 0);
  state.pending.clear();
  if (batch.length === 0) return;
  state.flushing = writeLearned(batch)
    .catch((err) =>
      console.error(
        "[portcullis] learned classifications not written:",
        err instanceof Error ? err.message : err,
      ),
    )
    .finally(() => {
      state.flushing = undefined;
    });
  await state.flushing;
}

async function writeLearned(batch: Pending[]): Promise<void> {
  const byTable = new Map<string, Pending[]>();
  for (const p of batch) {
    const key = `${p.connectionId}\u0000${p.table}`;
    byTable.set(key, [...(byTable.get(key) ?? []), p]);
  }
  for (const entries of byTable.values()) {
    const { connectionId, table } = entries[0]!;
    const dot = table.indexOf(".");
    const schemaName = table.slice(0, dot);
    const tableName = table.slice(dot + 1);
    const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const names = new Map(
      (
        await queryCatalog(
          connectionId,
          `select a.attnum as attnum, a.attname as name from pg_catalog.pg_attribute a
             join pg_catalog.pg_class c on c.oid = a.attrelid
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = ${literal(schemaName)} and c.relname = ${literal(tableName)}
              and a.attnum = any(array[${entries.map((e) => e.attnum).join(",")}]::int2[]) and not a.attisdropped`,
        )
      ).map((r) => [Number(r.attnum), String(r.name)]),
    );
    for (const entry of entries) {
      const columnName = names.get(entry.attnum);
      if (!columnName) continue;
      await recordFindings(
        connectionId,
        { schemaName, tableName, columnName },
        { learned: { values: entry.values, counts: entry.counts } },
      );
    }
  }
}
