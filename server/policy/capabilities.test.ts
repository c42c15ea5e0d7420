import { describe, expect, it } from "vitest";
import { type CatalogQuery, createTargetCatalog } from "./catalog";
import { classifySql } from "./classify-statement";
import { isSignificantFunction } from "./functions";
import type { StatementClass } from "./types";

type Case = [behaviour: string, sql: string, expected: StatementClass];

// Without the target's catalog (the terminal's psql -c, and these tests): what names alone settle.
const WITHOUT_CATALOG: Case[] = [
  [
    "keeps a built-in on the allowlist a read",
    "SELECT lower(name), md5(email), now() FROM customers",
    "read",
  ],
  [
    "keeps a reviewed volatile built-in a read",
    "SELECT random(), clock_timestamp(), gen_random_uuid()",
    "read",
  ],
  ["keeps a schema-qualified built-in a read", "SELECT pg_catalog.upper('a')", "read"],
  ["holds a function that is not a known built-in", "SELECT purge_orders()", "write"],
  ["holds a built-in name called in another schema", "SELECT public.lower('a')", "write"],
  ["holds a volatile built-in that is not reviewed", "SELECT lo_get(1)", "write"],
  [
    "refuses ts_rewrite running SQL that reads a file",
    "SELECT ts_rewrite('a'::tsquery, $q$SELECT 'a'::tsquery, pg_read_file('/etc/passwd')::tsquery$q$)",
    "dangerous",
  ],
  [
    "holds ts_rewrite running SQL that turns read-only off",
    "SELECT ts_rewrite('a'::tsquery, $q$SELECT set_config('default_transaction_read_only','off',false)::tsquery, 'b'::tsquery$q$)",
    "write",
  ],
  [
    "refuses ts_rewrite with SQL built at run time",
    "SELECT ts_rewrite('a'::tsquery, 'SELECT ' || 'x')",
    "dangerous",
  ],
  [
    "keeps ts_rewrite of three tsqueries a read",
    "SELECT ts_rewrite('a'::tsquery, 'a'::tsquery, 'b'::tsquery)",
    "read",
  ],
  ["refuses ts_stat with SQL built at run time", "SELECT ts_stat(lower('SELECT 1'))", "dangerous"],
  [
    "refuses query_to_xml with named arguments",
    "SELECT query_to_xml(query => 'SELECT 1', nulls => true, tableforest => false, targetns => '')",
    "dangerous",
  ],
  ["refuses pg_stat_reset by family", "SELECT pg_stat_reset_single_function_counters(1)", "dangerous"],
  ["refuses replication origins", "SELECT pg_replication_origin_create('x')", "dangerous"],
  ["refuses logical messages", "SELECT pg_logical_emit_message(true, 'p', 'x')", "dangerous"],
  ["holds collation import as DDL", "SELECT pg_import_system_collations('public')", "ddl"],
  ["holds advisory locks", "SELECT pg_try_advisory_xact_lock_shared(1)", "write"],
  ["refuses reading other sessions' activity", "SELECT * FROM pg_stat_get_activity(NULL)", "dangerous"],
  ["refuses pg_file_settings by the function behind it", "SELECT * FROM pg_file_settings", "dangerous"],
  ["refuses pg_hba_file_rules", "SELECT * FROM pg_catalog.pg_hba_file_rules", "dangerous"],
  ["refuses pg_stat_activity", "SELECT query FROM pg_stat_activity", "dangerous"],
  ["refuses pg_shadow", "SELECT * FROM pg_shadow", "dangerous"],
  ["refuses password hashes in pg_authid", "SELECT rolname, rolpassword FROM pg_authid", "dangerous"],
  ["refuses a whole pg_authid row", "SELECT row_to_json(a) FROM pg_authid a", "dangerous"],
  ["keeps role names of pg_authid a read", "SELECT rolname FROM pg_authid", "read"],
  ["keeps pg_roles a read", "SELECT rolname FROM pg_roles", "read"],
  ["keeps pg_settings a read", "SELECT name, setting FROM pg_settings", "read"],
  ["keeps pg_locks a read", "SELECT mode FROM pg_locks", "read"],
  ["keeps table_to_xml of a named table a read", "SELECT table_to_xml('orders', true, false, '')", "read"],
  [
    "holds schema_to_xml without a catalog to name its tables",
    "SELECT schema_to_xml('public', true, false, '')",
    "write",
  ],
  [
    "holds table_to_xml of a table chosen at run time without a catalog",
    "SELECT table_to_xml(c.oid::regclass, true, false, '') FROM pg_class c",
    "write",
  ],
  ["holds SET default_transaction_read_only off", "SET default_transaction_read_only = off", "write"],
  [
    "holds set_config turning transaction_read_only off",
    "SELECT set_config('transaction_read_only', 'false', true)",
    "write",
  ],
  ["keeps SET default_transaction_read_only on a read", "SET default_transaction_read_only = on", "read"],
  [
    "holds EXECUTE of a statement prepared above that calls an unknown function",
    "PREPARE p AS SELECT purge_orders(); EXECUTE p",
    "write",
  ],
];

describe("classification by capability, without a catalog", () => {
  it.each(WITHOUT_CATALOG)("%s", async (_behaviour, sql, expected) => {
    expect((await classifySql(sql)).class).toBe(expected);
  });

  it("counts table_to_xml's table for table rules, as PostgreSQL reads the name", async () => {
    const tables = async (sql: string) => (await classifySql(sql)).statements[0]?.tables;
    expect(await tables("SELECT table_to_xml('Payroll', true, false, '')")).toEqual(["payroll"]);
    expect(await tables(`SELECT table_to_xml('hr."Pay.Roll"', true, false, '')`)).toEqual(["hr.pay.roll"]);
    expect(await tables("SELECT ts_stat('SELECT doc FROM payroll')")).toEqual(["payroll"]);
  });

  it("names the reason a person can read", async () => {
    const result = await classifySql("SELECT * FROM pg_file_settings");
    expect(result.statements[0]?.reasons).toEqual([
      "reads pg_catalog.pg_file_settings, which calls pg_show_all_file_settings(), which reaches the server's file system",
    ]);
  });
});

describe("statement text", () => {
  it.each([
    ["U+00A0", "\u00a0"],
    ["U+FEFF", "\ufeff"],
    ["U+2028", "\u2028"],
  ])("keeps a trailing %s, which PostgreSQL reads as part of the name", async (_name, character) => {
    const result = await classifySql(`SELECT * FROM payroll${character}`);
    expect(result.statements[0]?.text).toBe(`SELECT * FROM payroll${character}`);
    expect(result.statements[0]?.tables).toEqual([`payroll${character}`]);
  });

  it("trims only the whitespace PostgreSQL skips", async () => {
    const result = await classifySql(" \t\r\n\fSELECT 1 \n;\n SELECT 2\f");
    expect(result.statements.map((s) => s.text)).toEqual(["SELECT 1", "SELECT 2"]);
  });
});

/** A catalog over canned pg_proc / pg_class / pg_operator rows; counts the queries it answers. */
function fakeCatalog(rows: { functions?: object[]; relations?: object[]; operators?: object[] }) {
  const asked: string[] = [];
  const query: CatalogQuery = async (text, parameters) => {
    const names = new Set((parameters[0] as string[] | undefined) ?? []);
    const pick = (list: object[] = [], key = "name") =>
      list.filter((row) => names.has(String((row as Record<string, unknown>)[key]).toLowerCase()));
    if (text.includes("pg_operator")) {
      asked.push("operators");
      return pick(rows.operators, "operator") as Record<string, unknown>[];
    }
    if (text.includes("pg_proc")) {
      asked.push("functions");
      return pick(rows.functions) as Record<string, unknown>[];
    }
    asked.push("relations");
    return pick(rows.relations) as Record<string, unknown>[];
  };
  return { catalog: createTargetCatalog(query, { now: () => clock }), asked };
}
let clock = 0;

const fn = (name: string, volatility: string, extra: object = {}) => ({
  name,
  schema: "public",
  volatility,
  language: "sql",
  trusted: true,
  definer: false,
  ...extra,
});

describe("classification by capability, with the target's catalog", () => {
  const { catalog } = fakeCatalog({
    functions: [
      fn("order_total", "s"),
      fn("purge_orders", "v"),
      fn("definer_read", "s", { definer: true }),
      fn("shell", "i", { language: "plpython3u", trusted: false }),
      fn("lower", "v", { schema: "evil" }),
      fn("scratch", "s", { schema: "pg_temp_3" }),
      fn("salaries", "s", { body: "select * from payroll_view" }),
      fn("payroll_total", "s", { body: "select sum(salary) from salaries()" }),
      fn("countdown", "s", { body: "select countdown($1 - 1)" }),
    ],
    relations: [
      { schema: "public", name: "payroll", kind: "r", definition: null },
      { schema: "public", name: "payroll_view", kind: "v", definition: " SELECT id, salary FROM payroll;" },
      { schema: "public", name: "by_dept", kind: "v", definition: " SELECT sum(salary) FROM payroll_view;" },
      { schema: "public", name: "purging", kind: "v", definition: " SELECT purge_orders() AS n;" },
      { schema: "public", name: "leaky", kind: "v", definition: " SELECT pg_read_file('/etc/passwd') AS f;" },
      {
        schema: "public",
        name: "snapshot",
        kind: "m",
        definition: " SELECT purge_orders(), salary FROM payroll;",
      },
    ],
    operators: [{ operator: "===", ...fn("evil_eq", "v") }],
  });
  const classify = (sql: string) => classifySql(sql, { catalog });

  it.each<Case>([
    ["keeps a stable user function a read", "SELECT order_total(1)", "read"],
    ["holds a volatile user function", "SELECT purge_orders()", "write"],
    ["holds a SECURITY DEFINER function", "SELECT definer_read()", "write"],
    ["holds a function in an untrusted language", "SELECT shell()", "write"],
    ["holds a function that does not exist", "SELECT nothing_here()", "write"],
    ["holds a built-in name another schema shadows with a volatile function", "SELECT lower('a')", "write"],
    ["holds a view that calls a volatile function", "SELECT * FROM purging", "write"],
    ["refuses a view that reads a file", "SELECT * FROM leaky", "dangerous"],
    ["keeps a materialized view a read (its functions ran at refresh)", "SELECT * FROM snapshot", "read"],
    ["holds a user-defined operator whose function is volatile", "SELECT 1 === 1", "write"],
    ["holds it written with OPERATOR()", "SELECT 1 OPERATOR(public.===) 1", "write"],
    ["holds it under ORDER BY ... USING", "SELECT 1 AS n ORDER BY n USING ===", "write"],
    ["finds a pg_temp function in the session's own pg_temp_N schema", "SELECT pg_temp.scratch()", "read"],
    [
      "holds EXECUTE of a prepared statement the catalog says writes",
      "PREPARE p AS SELECT purge_orders(); EXECUTE p",
      "write",
    ],
  ])("%s", async (_behaviour, sql, expected) => {
    expect((await classify(sql)).class).toBe(expected);
  });

  it("sees the tables behind views, recursively, and says so", async () => {
    const result = await classify("SELECT * FROM by_dept");
    expect(result.class).toBe("read");
    expect(result.consultedCatalog).toBe(true);
    expect(result.statements[0]?.tables).toEqual(["by_dept", "payroll_view", "payroll"]);
    expect(result.statements[0]?.reasons).toContain("reads payroll through view public.payroll_view");
    expect((await classify("SELECT * FROM snapshot")).statements[0]?.tables).toContain("payroll");
  });

  it("sees the tables a function in SQL reads, through the functions and views it calls", async () => {
    const result = await classify("SELECT payroll_total()");
    expect(result.class).toBe("read");
    expect(result.statements[0]?.tables).toEqual(["payroll_view", "payroll"]);
    expect(result.statements[0]?.reasons).toEqual(
      expect.arrayContaining([
        "reads payroll_view through function public.salaries()",
        "reads payroll through view public.payroll_view",
      ]),
    );
    // A function that calls itself is read once.
    expect((await classify("SELECT countdown(3)")).class).toBe("read");
  });

  it("reads every table of the schema schema_to_xml() names, spelled exactly (a name, not an identifier)", async () => {
    const asked: unknown[] = [];
    const catalog = createTargetCatalog(async (text, parameters) => {
      if (text.includes("nspname = $1")) {
        asked.push(parameters[0]);
        return parameters[0] === "HR" ? [{ name: "HR.payroll_copy" }] : [];
      }
      return [];
    });
    const result = await classifySql("SELECT schema_to_xml('HR', true, false, '')", { catalog });
    expect(asked).toEqual(["HR"]);
    expect(result.statements[0]?.tables).toEqual(["hr.payroll_copy"]);
  });

  it("names the functions a view calls among the statement's, so an allow rule by function must name them", async () => {
    const result = await classify("SELECT order_total(1) FROM purging");
    expect(result.statements[0]?.functions).toEqual(["order_total", "purge_orders"]);
  });

  it("refuses, naming the catalog, when the catalog cannot be read", async () => {
    const broken = createTargetCatalog(async () => {
      throw new Error("permission denied for table pg_class");
    });
    const result = await classifySql("SELECT * FROM orders", { catalog: broken });
    expect(result.class).toBe("unparseable");
    expect(result.error?.message).toBe(
      "the target's catalog could not be read: permission denied for table pg_class, so what the statement calls cannot be known and nothing runs (fail closed)",
    );
    // A statement that names nothing the catalog knows does not need it.
    expect((await classifySql("SELECT 1", { catalog: broken })).class).toBe("read");
  });
});

describe("the catalog cache", () => {
  it("asks once per name until the time to live passes or it is told to forget", async () => {
    const { catalog, asked } = fakeCatalog({ functions: [fn("order_total", "s")] });
    clock = 0;
    await catalog.functions(["order_total"]);
    await catalog.functions(["order_total"]);
    expect(asked).toEqual(["functions"]);
    clock = 29_999;
    await catalog.functions(["order_total"]);
    expect(asked).toEqual(["functions"]);
    clock = 30_000;
    await catalog.functions(["order_total"]);
    expect(asked).toEqual(["functions", "functions"]);
    catalog.forget();
    await catalog.functions(["order_total"]);
    expect(asked).toEqual(["functions", "functions", "functions"]);
  });

  it("shares one query between concurrent asks for the same name", async () => {
    const { catalog, asked } = fakeCatalog({ functions: [fn("order_total", "s")] });
    clock = 0;
    const [first, second] = await Promise.all([
      catalog.functions(["order_total"]),
      catalog.functions(["order_total"]),
    ]);
    expect(asked).toEqual(["functions"]);
    expect(second.get("order_total")).toEqual(first.get("order_total"));
  });

  it("does not keep an answer that was on its way when it was told to forget", async () => {
    const { catalog, asked } = fakeCatalog({ functions: [fn("order_total", "s")] });
    clock = 0;
    const answering = catalog.functions(["order_total"]);
    catalog.forget();
    await answering;
    await catalog.functions(["order_total"]);
    expect(asked).toEqual(["functions", "functions"]);
  });

  it("remembers that a name is unknown too, and asks only for new names", async () => {
    const { catalog, asked } = fakeCatalog({});
    clock = 0;
    expect((await catalog.relations(["nothing"])).get("nothing")).toEqual([]);
    await catalog.relations(["nothing"]);
    expect(asked).toEqual(["relations"]);
  });
});

describe("significant functions for allow rules", () => {
  it.each([
    ["lower", false],
    ["pg_catalog.count", false],
    ["public.lower", true],
    ["purge_orders", true],
    ["set_config", true],
    ["ts_rewrite", true],
    ["pg_read_file", true],
  ] as const)("%s is significant: %s", (name, expected) => {
    expect(isSignificantFunction(name)).toBe(expected);
  });
});
