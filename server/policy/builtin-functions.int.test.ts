// The shipped allowlist of built-ins cannot drift silently: it is regenerated here from a real PostgreSQL 15 (the
// same code as `npm run generate:builtins`) and compared with the committed file, and the hand-kept lists of
// functions that run SQL text or read tables by name are checked against that server's pg_proc.
import { existsSync } from "node:fs";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PostgresServer, startPostgres } from "@/test/harness/postgres";
import { readBuiltinCatalog } from "./builtin-catalog";
import { SAFE_BUILTIN_FUNCTIONS, SYSTEM_VIEWS } from "./builtin-functions.generated";
import { SQL_TEXT_FUNCTIONS, TABLE_READING_FUNCTIONS } from "./functions";

const PG15 = "/usr/lib/postgresql/15/bin";
let pg: PostgresServer;
let sql: postgres.Sql;

beforeAll(async () => {
  pg = await startPostgres(existsSync(PG15) ? { binDir: PG15 } : {});
  sql = postgres(pg.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await pg?.stop();
});

const query = (text: string, parameters?: unknown[]) =>
  sql.unsafe(text, (parameters ?? []) as never[]) as Promise<Record<string, unknown>[]>;

describe("built-in functions", () => {
  it("regenerates the committed allowlist and system views from PostgreSQL 15", async () => {
    const generated = await readBuiltinCatalog(query);
    expect(generated.serverVersion).toMatch(/^15/);
    expect(generated.safe).toEqual([...SAFE_BUILTIN_FUNCTIONS].sort());
    expect(generated.systemViews).toEqual(SYSTEM_VIEWS);
  });

  it("knows every built-in that takes a query as text", async () => {
    const rows = await query(`
      select distinct p.proname as name from pg_catalog.pg_proc p
      where p.pronamespace = 'pg_catalog'::regnamespace
        and (p.proname = 'ts_rewrite' and p.pronargs = 2
          or exists (select from unnest(p.proargnames, p.proargtypes::oid[]) a(name, type)
                     where a.name in ('query', 'sqlquery') and a.type = 'text'::regtype))`);
    const names = rows.map((row) => String(row.name));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) expect(SQL_TEXT_FUNCTIONS.has(name), name).toBe(true);
  });

  it("knows every built-in that reads a table, a schema or the database as XML", async () => {
    const rows = await query(`
      select distinct p.proname as name from pg_catalog.pg_proc p
      where p.pronamespace = 'pg_catalog'::regnamespace and p.prorettype = 'xml'::regtype
        and p.proname ~ '^(table|schema|database)_to_xml'`);
    expect(rows.length).toBe(9);
    for (const row of rows)
      expect(TABLE_READING_FUNCTIONS.has(String(row.name)), String(row.name)).toBe(true);
  });

  it("leaves every volatile built-in and every function that reaches files or other sessions off the allowlist", () => {
    for (const name of [
      "pg_read_file",
      "pg_stat_get_activity",
      "pg_stat_reset",
      "set_config",
      "ts_rewrite",
      "query_to_xml",
      "table_to_xml",
      "pg_logical_emit_message",
      "nextval",
      "pg_advisory_lock",
      "lo_import",
    ]) {
      expect(SAFE_BUILTIN_FUNCTIONS.has(name), name).toBe(false);
    }
    for (const name of [
      "lower",
      "count",
      "now",
      "md5",
      "jsonb_build_object",
      "date_trunc",
      "generate_series",
    ]) {
      expect(SAFE_BUILTIN_FUNCTIONS.has(name), name).toBe(true);
    }
  });
});
