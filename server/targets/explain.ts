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

/**
 * The plan's root node of one statement (a single statement: the parser split the input). A statement with
 * parameters ($1, $2... of a native client's extended protocol) is prepared and its generic plan explained (the
 * parameters stay parameters in it, so a condition on one is seen whatever value comes); that takes several
 * queries on one session, so `parameterCount` > 0 needs a query bound to one session (a run's own), and the
 * session's plan_cache_mode is put back as it was.
 */
export async function explainPlan(
  query: TargetQuery,
  statement: string,
  parameterCount = 0,
): Promise<unknown> {
  const rows =
    parameterCount > 0
      ? await explainGeneric(query, statement, parameterCount)
      : await query(`explain (verbose, costs off, format json) ${statement}`);
  const plan = (rows[0]?.["QUERY PLAN"] as { Plan?: unknown }[] | undefined)?.[0]?.Plan;
  if (!plan || typeof plan !== "object") throw new Error("EXPLAIN returned no plan");
  return plan;
}

const PREPARED = "portcullis_lineage";

async function explainGeneric(query: TargetQuery, statement: string, parameterCount: number) {
  const [mode] = await query("select pg_catalog.current_setting('plan_cache_mode') as mode");
  await query("set plan_cache_mode = force_generic_plan");
  try {
    await query(`prepare ${PREPARED} as ${statement}`);
    try {
      const nulls = Array.from({ length: parameterCount }, () => "null").join(", ");
      return await query(`explain (verbose, costs off, format json) execute ${PREPARED}(${nulls})`);
    } finally {
      await query(`deallocate ${PREPARED}`);
    }
  } finally {
    await query("select pg_catalog.set_config('plan_cache_mode', $1, false)", [String(mode?.mode ?? "auto")]);
  }
}

export interface CatalogFacts {
  relations: { name: string; kind: string; columns: string[]; definition: string | null }[];
  ownFunctions: string[];
  /** Indexes by name: their table, key columns, and the columns their expressions and predicate read. */
  indexes: { name: string; relation: string; keys: string[]; others: string[] }[];
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
   where n.nspname not in ('pg_catalog', 'information_schema') and lower(p.proname) = any($2::text[])) as functions,
  (select coalesce(json_agg(json_build_object(
      'name', ci.relname,
      'relation', n.nspname || '.' || ct.relname,
      'keys', (select coalesce(json_agg(a.attname), '[]'::json) from pg_catalog.pg_attribute a
               where a.attrelid = i.indrelid and a.attnum > 0 and a.attnum = any(i.indkey::int2[])),
      'others', (select coalesce(json_agg(distinct a.attname), '[]'::json)
                 from pg_catalog.pg_depend d
                 join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                 where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = i.indexrelid
                   and d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjid = i.indrelid
                   and d.refobjsubid > 0 and not (d.refobjsubid = any(i.indkey::int2[]))))), '[]'::json)
   from pg_catalog.pg_index i
   join pg_catalog.pg_class ci on ci.oid = i.indexrelid
   join pg_catalog.pg_class ct on ct.oid = i.indrelid
   join pg_catalog.pg_namespace n on n.oid = ct.relnamespace
   where ci.relname = any($3::text[])) as indexes`;

/**
 * Columns and kind of the named relations ("schema.name"), which of the function names are the target's own, and
 * the columns of the named indexes.
 */
export async function catalogFacts(
  query: TargetQuery,
  relations: string[],
  functions: string[],
  indexes: string[] = [],
): Promise<CatalogFacts> {
  const [row] = await query(FACTS_SQL, [relations, functions, indexes]);
  const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
  return {
    relations: (parse(row?.relations) ?? []) as CatalogFacts["relations"],
    ownFunctions: (parse(row?.functions) ?? []) as string[],
    indexes: (parse(row?.indexes) ?? []) as CatalogFacts["indexes"],
  };
}
