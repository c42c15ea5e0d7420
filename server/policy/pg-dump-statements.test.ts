// What pg_dump 15 sends to set its session up (setup_connection), classified: the settings it changes are reads,
// and set_config(name, ...) FROM pg_settings WHERE name = '...' is a read only when pg_settings and `=` can only be
// pg_catalog's (a fake of our own TargetCatalog interface answers; the real target is in pg-dump.int.test.ts).
import { describe, expect, it } from "vitest";
import { type CatalogQuery, createTargetCatalog } from "./catalog";
import { classifySql } from "./classify-statement";
import type { StatementClass } from "./types";

type Case = [behaviour: string, sql: string, expected: StatementClass];

const PG_DUMP_SET_CONFIG =
  "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'";

/** A catalog over canned pg_class / pg_operator rows (nothing else is asked by these statements). */
function catalogWith(rows: { relations?: object[]; operators?: object[] }) {
  const query: CatalogQuery = async (text, parameters) => {
    const names = new Set((parameters[0] as string[] | undefined) ?? []);
    const pick = (list: object[] = [], key: string) =>
      list.filter((row) => names.has(String((row as Record<string, unknown>)[key]).toLowerCase()));
    if (text.includes("pg_operator")) return pick(rows.operators, "operator") as Record<string, unknown>[];
    if (text.includes("pg_proc")) return [];
    return pick(rows.relations, "name") as Record<string, unknown>[];
  };
  return createTargetCatalog(query, { now: () => 0 });
}

const SYSTEM_VIEW = {
  schema: "pg_catalog",
  name: "pg_settings",
  kind: "v",
  definition: " SELECT a.name, a.setting FROM pg_show_all_settings() a(name, setting);",
};
const clean = catalogWith({ relations: [SYSTEM_VIEW] });

describe("pg_dump's session set-up", () => {
  it.each<Case>([
    [
      "keeps synchronize_seqscans a read (where scans start, not what they see)",
      "SET synchronize_seqscans TO off",
      "read",
    ],
    [
      "keeps the search_path pg_dump empties a read",
      "SELECT pg_catalog.set_config('search_path', '', false)",
      "read",
    ],
    ["keeps pg_dump's datestyle a read", "SET DATESTYLE = ISO", "read"],
    ["keeps pg_dump's intervalstyle a read", "SET INTERVALSTYLE = POSTGRES", "read"],
    ["keeps pg_dump's float digits a read", "SET extra_float_digits TO 3", "read"],
    [
      "keeps pg_dump's timeouts reads",
      "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0",
      "read",
    ],
    [
      "keeps row_security off a read (the server refuses rather than filters)",
      "SET row_security = off",
      "read",
    ],
    ["keeps quote_all_identifiers a read", "SET quote_all_identifiers = true", "read"],
    [
      "keeps a repeatable-read, read-only transaction a read",
      "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
      "read",
    ],
    [
      "keeps the set_config of restrict_nonsystem_relation_kind through pg_settings a read",
      PG_DUMP_SET_CONFIG,
      "read",
    ],
    [
      "keeps restrict_nonsystem_relation_kind read when it restricts the most, in either order",
      "SET restrict_nonsystem_relation_kind = 'foreign-table,view'",
      "read",
    ],
    [
      "counts restrict_nonsystem_relation_kind emptied as an unknown setting (it could lift an administrator's restriction)",
      "SET restrict_nonsystem_relation_kind = ''",
      "privilege",
    ],
    [
      "counts restrict_nonsystem_relation_kind with only one kind as an unknown setting",
      "SET restrict_nonsystem_relation_kind = 'view'",
      "privilege",
    ],
    [
      "classifies the setting the WHERE names: session_replication_role through pg_settings is dangerous",
      "SELECT set_config(name, 'replica', false) FROM pg_settings WHERE name = 'session_replication_role'",
      "dangerous",
    ],
    [
      "classifies the setting the WHERE names: role through pg_settings is a privilege change",
      "SELECT set_config(s.name, 'postgres', false) FROM pg_catalog.pg_settings s WHERE s.name = 'role'",
      "privilege",
    ],
    [
      "keeps pg_catalog.set_config and pg_catalog.= through pg_catalog.pg_settings a read",
      "SELECT pg_catalog.set_config(pg_settings.name, 'view,foreign-table', false) FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'restrict_nonsystem_relation_kind'",
      "read",
    ],
    [
      "keeps LOCK ... IN ACCESS SHARE MODE a read (the lock a SELECT takes)",
      "LOCK TABLE public.customers IN ACCESS SHARE MODE",
      "read",
    ],
    [
      "keeps pg_dump's LOCK ... NOWAIT of a worker a read",
      "LOCK TABLE public.customers IN ACCESS SHARE MODE NOWAIT",
      "read",
    ],
    ["holds a LOCK without a mode (ACCESS EXCLUSIVE) as a write", "LOCK TABLE customers", "write"],
    ["holds LOCK ... IN ROW SHARE MODE as a write", "LOCK TABLE customers IN ROW SHARE MODE", "write"],
    [
      "holds LOCK ... IN SHARE MODE as a write (it holds off writers)",
      "LOCK TABLE customers IN SHARE MODE",
      "write",
    ],
    [
      "holds LOCK ... IN ACCESS EXCLUSIVE MODE as a write",
      "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE",
      "write",
    ],
  ])("%s", async (_behaviour, sql, expected) => {
    expect((await classifySql(sql, { catalog: clean })).class).toBe(expected);
  });

  it("names the tables a LOCK ... IN ACCESS SHARE MODE locks, for table rules", async () => {
    const result = await classifySql("LOCK TABLE public.payroll, orders IN ACCESS SHARE MODE", {
      catalog: clean,
    });
    expect(result.statements[0]?.tables.sort()).toEqual(["orders", "public.payroll"]);
  });
});

describe("set_config() with a name from pg_settings: every way around the one shape stays refused", () => {
  it.each<Case>([
    ["refuses an OR in the WHERE (every setting)", `${PG_DUMP_SET_CONFIG} OR true`, "dangerous"],
    [
      "refuses a WHERE on another column",
      "SELECT set_config(name, 'x', false) FROM pg_settings WHERE category = 'restrict_nonsystem_relation_kind'",
      "dangerous",
    ],
    ["refuses no WHERE at all", "SELECT set_config(name, 'x', false) FROM pg_settings", "dangerous"],
    [
      "refuses a LIKE",
      "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name LIKE 'restrict%'",
      "dangerous",
    ],
    [
      "refuses <> (every other setting)",
      "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name <> 'application_name'",
      "dangerous",
    ],
    [
      "refuses another column as the name",
      "SELECT set_config(setting, 'x', false) FROM pg_settings WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses a join that brings another name column",
      "SELECT set_config(name, 'x', false) FROM pg_settings, (SELECT 'role' AS name) t WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses another relation named pg_settings in another schema",
      "SELECT set_config(name, 'x', false) FROM evil.pg_settings WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses a CTE named pg_settings",
      "WITH pg_settings AS (SELECT 'role' AS name) SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses a value computed at run time",
      "SELECT set_config(name, current_user, false) FROM pg_settings WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses a second set_config target",
      "SELECT set_config(name, 'x', false), set_config(name || '', 'y', false) FROM pg_settings WHERE name = 'application_name'",
      "dangerous",
    ],
    [
      "refuses a UNION that adds rows",
      "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'application_name' UNION SELECT set_config(name, 'y', false) FROM pg_settings",
      "dangerous",
    ],
    [
      "refuses a user-defined operator named by schema",
      "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name OPERATOR(public.=) 'application_name'",
      "dangerous",
    ],
    [
      "refuses a quoted relation of another spelling",
      `SELECT set_config(name, 'x', false) FROM "PG_SETTINGS" WHERE name = 'application_name'`,
      "dangerous",
    ],
  ])("%s", async (_behaviour, sql, expected) => {
    expect((await classifySql(sql, { catalog: clean })).class).toBe(expected);
  });

  it("refuses it when a relation named pg_settings exists in another schema (a temporary table comes first)", async () => {
    const catalog = catalogWith({
      relations: [SYSTEM_VIEW, { schema: "pg_temp_3", name: "pg_settings", kind: "r", definition: null }],
    });
    const result = await classifySql(PG_DUMP_SET_CONFIG, { catalog });
    expect(result.class).toBe("dangerous");
    expect(result.statements[0]?.reasons.join("\n")).toContain("pg_temp_3.pg_settings can stand in");
  });

  it("refuses it when a user-defined = exists (a search_path may put it before pg_catalog's)", async () => {
    const catalog = catalogWith({
      relations: [SYSTEM_VIEW],
      operators: [
        {
          operator: "=",
          name: "always_true",
          schema: "public",
          volatility: "i",
          language: "sql",
          trusted: true,
          definer: false,
        },
      ],
    });
    expect((await classifySql(PG_DUMP_SET_CONFIG, { catalog })).class).toBe("dangerous");
  });

  it("refuses it without the target's catalog to show pg_settings is the system view", async () => {
    const result = await classifySql(PG_DUMP_SET_CONFIG);
    expect(result.class).toBe("dangerous");
  });
});

describe("a SELECT that only sets the session, run as SET is", () => {
  it.each<[behaviour: string, sql: string, setsSessionOnly: boolean]>([
    ["pg_dump's search_path", "SELECT pg_catalog.set_config('search_path', '', false)", true],
    [
      "several constant settings",
      "SELECT pg_catalog.set_config('application_name', 'a', false), pg_catalog.set_config('work_mem', '64MB', true)",
      true,
    ],
    [
      "not an unqualified set_config (a namesake could stand in)",
      "SELECT set_config('search_path', '', false)",
      false,
    ],
    [
      "not with anything else in the target list",
      "SELECT pg_catalog.set_config('search_path', '', false), now()",
      false,
    ],
    ["not with a FROM", "SELECT pg_catalog.set_config('search_path', '', false) FROM customers", false],
    [
      "not with a value computed at run time",
      "SELECT pg_catalog.set_config('search_path', current_user, false)",
      false,
    ],
    ["not the pg_settings shape (it reads a view)", PG_DUMP_SET_CONFIG, false],
    [
      "not a setting that is not a read",
      "SELECT pg_catalog.set_config('session_replication_role', 'replica', false)",
      false,
    ],
  ])("%s", async (_behaviour, sql, expected) => {
    const [statement] = (await classifySql(sql, { catalog: clean })).statements;
    expect(statement?.setsSessionOnly === true).toBe(expected);
  });
});
