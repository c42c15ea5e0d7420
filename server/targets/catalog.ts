/**
 * Table and column names of a PostgreSQL connection: for completion in the editor (queried by the gateway itself,
 * not user input, for callers who may use the connection, and cached per connection for a minute), and one
 * table's readable columns in order (what a target error's failing row lists). Names travel as parameters.
 */
import "server-only";
import { getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import type { Principal } from "@/server/principal";
import { queryCatalog } from "./postgres";

export interface CatalogTable {
  schema: string;
  name: string;
  columns: { name: string; type: string }[];
}

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; key: string; tables: CatalogTable[] }>();

const CATALOG_SQL = `
select c.table_schema as schema, c.table_name as name, c.column_name as column, c.data_type as type
from information_schema.columns c
where c.table_schema not in ('pg_catalog', 'information_schema') and c.table_schema not like 'pg_toast%'
order by c.table_schema, c.table_name, c.ordinal_position
limit 20000`;

export async function describeSchema(principal: Principal, connectionName: string): Promise<CatalogTable[]> {
  const connection = await getConnectionForUse(principal, connectionName);
  if (connection.kind !== "postgres")
    throw new GatewayError("bad_request", `${connectionName} is not a database`);
  const hit = cache.get(connection.id);
  if (hit && hit.key === connection.updatedAt && Date.now() - hit.at < TTL_MS) return hit.tables;
  const rows = (await queryCatalog(connection.id, CATALOG_SQL)) as {
    schema: string;
    name: string;
    column: string;
    type: string;
  }[];
  const byTable = new Map<string, CatalogTable>();
  for (const r of rows) {
    const key = `${r.schema}.${r.name}`;
    let table = byTable.get(key);
    if (!table) {
      table = { schema: r.schema, name: r.name, columns: [] };
      byTable.set(key, table);
    }
    table.columns.push({ name: r.column, type: r.type });
  }
  const tables = [...byTable.values()];
  cache.set(connection.id, { at: Date.now(), key: connection.updatedAt, tables });
  return tables;
}

const TABLE_COLUMNS_SQL = `
select a.attname as name from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped
  and pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
order by a.attnum`;

/**
 * A table's live columns in order, as a failing row lists them (only those the gateway's role may read, as
 * PostgreSQL leaves the others out); undefined when the catalog cannot say.
 */
export async function readableColumnsOf(
  connectionId: string,
  schema: string,
  table: string,
): Promise<string[] | undefined> {
  try {
    const rows = await queryCatalog(connectionId, TABLE_COLUMNS_SQL, [schema, table]);
    return rows.map((r) => String(r.name));
  } catch {
    return undefined;
  }
}
