/**
 * What tracing lineage costs per statement, on a real PostgreSQL (initdb on a free port): a cold look-up (EXPLAIN
 * VERBOSE plus one catalog query, plus one EXPLAIN per materialized view met), a warm one (the cache), and, for
 * scale, what the parse-tree way would pay at least (parsing, which the pipeline already does, plus one catalog
 * round trip for views and star expansion). Usage:
 *   node --import tsx --import ./scripts/server-only-hook.mjs bench/lineage.ts [-- --runs 200]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { defaultMaskingConfig } from "../server/masking";
import { forgetLineage, statementLineage } from "../server/masking-lineage";
import { classifySql } from "../server/policy";
import { catalogFacts } from "../server/targets/explain";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const { values } = parseArgs({ options: { runs: { type: "string", default: "200" } } });
const RUNS = Number(values.runs);

const STATEMENTS = [
  "select id, name from employees where id = 1",
  "select salary + 1 as raise, upper(diagnosis) from employees",
  "select e from employees e",
  "select row_to_json(e) from employees e",
  "with c as (select salary as pay from employees) select pay from c union all select id from employees",
  "select d.title, sum(e.salary) over (partition by e.dept) from employees e join depts d on d.id = e.dept",
  "select double_pay, loud from emp_vv",
  "select s2 from emp_mm",
  "select (select max(salary) from employees) as m, (select count(*) from depts)",
];

function median(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main() {
  const pg = await startPostgres();
  const url = await createDatabase(pg.url, "lineage");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`
    create table employees (id int primary key, name text, dept int, salary int, diagnosis text);
    insert into employees select g, 'n' || g, g % 5, g * 1000, 'd' || g from generate_series(1, 1000) g;
    create table depts (id int primary key, title text);
    insert into depts select g, 't' || g from generate_series(0, 4) g;
    create view emp_v as select id, salary as pay, diagnosis as note from employees;
    create view emp_vv as select id, pay * 2 as double_pay, upper(note) as loud from emp_v;
    create materialized view emp_m as select id, salary + 1 as s1 from employees;
    create materialized view emp_mm as select id, s1 as s2 from emp_m;
    analyze;`);
  const query = (text: string, params?: unknown[]) =>
    sql.unsafe(text, params as never[]) as unknown as Promise<Record<string, unknown>[]>;
  const masking = {
    ...defaultMaskingConfig("bench"),
    columnRules: [
      { pattern: "employees.salary", type: "salary" },
      { pattern: "employees.diagnosis", type: "health" },
    ],
  };
  const lookup = (statement: string) =>
    statementLineage({
      connectionId: "bench",
      connectionName: "bench",
      version: "1",
      statement,
      masking,
      query,
      cacheable: true,
    });

  console.log(`\nLineage per statement (median of ${RUNS} runs, ms)\n`);
  console.log("| statement | parse (libpg-query) | + 1 catalog round trip | planner, cold | planner, warm |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const statement of STATEMENTS) {
    const parse: number[] = [];
    const catalog: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      await classifySql(statement);
      parse.push(performance.now() - t);
      t = performance.now();
      await catalogFacts(query, ["public.employees", "public.depts"], []);
      catalog.push(performance.now() - t);
      forgetLineage("bench");
      t = performance.now();
      const answer = await lookup(statement);
      cold.push(performance.now() - t);
      if ("untraced" in answer) throw new Error(`untraced: ${statement}`);
      t = performance.now();
      await lookup(statement);
      warm.push(performance.now() - t);
    }
    const p = median(parse);
    console.log(
      `| \`${statement}\` | ${p.toFixed(3)} | ${(p + median(catalog)).toFixed(3)} | ${median(cold).toFixed(3)} | ${median(warm).toFixed(4)} |`,
    );
  }
  await sql.end();
  await pg.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
