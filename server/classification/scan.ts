// Sampling a connection's tables for sensitive columns: lists the tables the gateway may read (at most
// CLASSIFICATION_MAX_TABLES), reads at most CLASSIFICATION_SAMPLE_ROWS rows of each in a read-only transaction
// under CLASSIFICATION_STATEMENT_TIMEOUT_MS, and keeps per column only how many values held each detector type.
// Progress is written to the store as tables are done, so any replica's page can show it. A table that cannot
// be read (timeout, privileges) is skipped and counted. Not responsible for who may scan or when (service.ts).
import "server-only";
import { getConfig } from "@/server/config";
import { queryCatalog, runStatements, toJsonValue } from "@/server/targets/postgres";
import { type Counts, typesIn } from "./judge";
import { listClassificationRows, recordFindings, updateScan } from "./store";

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

interface TableRef {
  schema: string;
  table: string;
}

async function readableTables(connectionId: string, limit: number): Promise<TableRef[]> {
  const rows = await queryCatalog(
    connectionId,
    `select n.nspname as schema, c.relname as table
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'm')
        and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname !~ '^pg_(toast|temp)'
        and pg_catalog.has_table_privilege(c.oid, 'SELECT')
      order by 1, 2
      limit ${limit}`,
  );
  return rows.map((r) => ({ schema: String(r.schema), table: String(r.table) }));
}

/** Per column of one table's sample: non-null values examined, and per type how many held one. */
export function tallySample(columns: string[], rows: unknown[][]): { values: number; counts: Counts }[] {
  return columns.map((column, i) => {
    const counts: Counts = {};
    let values = 0;
    for (const row of rows) {
      const value = toJsonValue(row[i]);
      if (value === null) continue;
      values++;
      for (const type of typesIn(value, column)) counts[type] = (counts[type] ?? 0) + 1;
    }
    return { values, counts };
  });
}

/** Scans one connection (its scan already claimed by the caller); resolves when done, never throws. */
export async function runScan(
  connectionId: string,
): Promise<{ tables: number; skipped: number; found: number }> {
  const { sampleRows, maxTables, statementTimeoutMs } = getConfig().classification;
  let tables: TableRef[];
  try {
    tables = await readableTables(connectionId, maxTables);
  } catch (err) {
    await updateScan(connectionId, {
      scanState: "failed",
      scanError: `the target's tables could not be listed: ${err instanceof Error ? err.message : "unknown error"}`,
      scanFinishedAt: new Date(),
    });
    return { tables: 0, skipped: 0, found: 0 };
  }
  await updateScan(connectionId, { scanTablesTotal: tables.length });
  const known = new Set(
    (await listClassificationRows(connectionId)).map((r) => `${r.schemaName}.${r.tableName}.${r.columnName}`),
  );
  let done = 0;
  let skipped = 0;
  let found = 0;
  for (const { schema, table } of tables) {
    const outcome = await runStatements(
      connectionId,
      [`select * from ${ident(schema)}.${ident(table)} limit ${sampleRows}`],
      { rowLimit: sampleRows, readOnly: true, statementTimeoutMs, throughCursor: () => false },
    ).catch(() => ({ results: [], error: new Error("unreachable") }));
    const [result] = outcome.results;
    if (outcome.error || !result) {
      skipped++;
    } else {
      const names = result.columns.map((c) => c.name);
      const tallies = tallySample(names, result.rows);
      for (const [i, tally] of tallies.entries()) {
        const columnName = names[i]!;
        const hasFindings = Object.keys(tally.counts).length > 0;
        if (!hasFindings && !known.has(`${schema}.${table}.${columnName}`)) continue;
        if (hasFindings) found++;
        await recordFindings(
          connectionId,
          { schemaName: schema, tableName: table, columnName },
          { sampled: tally },
        );
      }
    }
    done++;
    await updateScan(connectionId, { scanTablesDone: done, scanTablesSkipped: skipped });
  }
  await updateScan(connectionId, {
    scanState: "done",
    scanError:
      skipped > 0 ? `${skipped} of ${tables.length} tables could not be read (timeout or privileges)` : null,
    scanFinishedAt: new Date(),
  });
  return { tables: tables.length, skipped, found };
}
