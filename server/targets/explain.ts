/**
 * Asking a PostgreSQL target about a statement without running it: its plan (`EXPLAIN (VERBOSE, FORMAT JSON)`,
 * which never executes the statement) and the catalog facts lineage needs about what the plan names (columns of
 * relations, materialized view definitions, which functions are the target's own). Runs on whatever session the
 * caller hands in (a run's own session, so a statement after `CREATE TABLE` in the same input can be explained).
 * Not responsible for reading the plan (server/masking/lineage.ts) or for caching (server/masking-lineage.ts).
 */
import "server-only";

/** A query on a target session: text and parameters in, rows out. */
export type TargetQuery = (text: string, params?: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/** The plan's root node of one statement (a single statement: the parser split the input). */
export async function explainPlan(query: TargetQuery, statement: string): Promise<unknown> {
  const rows = await query(`explain (verbose, costs off, format json) ${statement}`);
  const plan = (rows[0]?.["QUERY PLAN"] as { Plan?: unknown }[] | undefined)?.[0]?.Plan;
  if (!plan || typeof plan !== "object") throw new Error("EXPLAIN returned no plan");
  return plan;
}

export interface CatalogFacts {
  relations: { name: string; kind: string; columns: string[]; definition: string | null }[];
  ownFunctions: string[];
}

const FACTS_SQL = `
select
  (select coalesce(json_agg(json_build_object(
      'name', n.nspname || '.' || c.relname,
      'kind', c.relkind::text,
      'definition', case when c.relkind = 'm' then pg_catalog.pg_get_viewdef(c.oid) end,
      'columns', (select coalesce(json_agg(a.attname order by a.attnum), '[]'::json)
                  from pg_catalog.pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped))), '[]'::json)
   from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname || '.' || c.relname = any($1::text[])) as relations,
  (select coalesce(json_agg(distinct lower(p.proname)), '[]'::json)
   from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where n.nspname not in ('pg_catalog', 'information_schema') and lower(p.proname) = any($2::text[])) as functions`;

/** Columns and kind of the named relations ("schema.name"), and which of the function names are the target's own. */
export async function catalogFacts(
  query: TargetQuery,
  relations: string[],
  functions: string[],
): Promise<CatalogFacts> {
  const [row] = await query(FACTS_SQL, [relations, functions]);
  const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
  return {
    relations: (parse(row?.relations) ?? []) as CatalogFacts["relations"],
    ownFunctions: (parse(row?.functions) ?? []) as string[],
  };
}
