/**
 * The CPU of the native listener's own stages per statement, in this process alone (no target, no store, no
 * socket): what a profile of `bench:native` spreads among the target's and the store's callbacks.
 *  - classification as the pipeline asks it (the connection's catalog, `parseCacheScope`): a repeated SELECT 1,
 *    pgbench's statement with $1 (one text), and pgbench's simple-protocol statement (a new literal each time);
 *  - the reply the simple protocol writes: RowDescription, DataRows, CommandComplete, ReadyForQuery, for one row
 *    of one column (SELECT 1) and for 1,000 rows of 8 text columns.
 * The catalog answers from memory (the pgbench table is a table), as the connection's cached catalog would.
 * Run it on two trees in turn (before / after) in the same minutes; compare the CPU per operation.
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/native-stages.ts [--runs 20000]
 */
import { parseArgs } from "node:util";
import { writeResult } from "../server/listeners/native-replies";
import { readyForQuery } from "../server/listeners/wire";
import type { StatementOutcome } from "../server/pipeline";
import { catalogFor, classifySql } from "../server/policy";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20000" } } });
const RUNS = Number(values.runs);

function cpuPer(runs: number, body: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(runs, 500); i++) body(i); // warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) body(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / runs; // microseconds
}

async function cpuPerAsync(runs: number, body: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(runs, 500); i++) await body(i);
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) await body(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / runs;
}

function result(columns: number, rows: number): StatementOutcome {
  return {
    statementIndex: 0,
    statement: "select",
    command: "SELECT",
    columns: Array.from({ length: columns }, (_, i) => ({
      name: `column_${i}`,
      oid: columns === 1 ? 23 : 25,
    })),
    rows: Array.from({ length: rows }, (_, r) =>
      Array.from({ length: columns }, (_, c) => (columns === 1 ? 1 : `value ${r} of column ${c}, é`)),
    ),
    masked: [],
    rowCount: rows,
    truncated: false,
    rowLimit: 1_000_000,
    durationMs: 0,
  } as unknown as StatementOutcome;
}

async function main() {
  const catalog = catalogFor("bench-connection", "1", async (text, parameters) => {
    const names = (parameters[0] as string[] | undefined) ?? [];
    if (text.includes("pg_class") && names.includes("pgbench_accounts")) {
      return [{ schema: "public", name: "pgbench_accounts", kind: "r" }];
    }
    return [];
  });
  const options = { catalog, parseCacheScope: "bench-connection" };
  const texts: [string, (i: number) => string, number][] = [
    [
      "pgbench statement, new text",
      (i) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${i + 1};`,
      RUNS / 4,
    ],
    ["pgbench statement, $1", () => "SELECT abalance FROM pgbench_accounts WHERE aid = $1", RUNS],
    ["SELECT 1, repeated", () => "select 1", RUNS],
  ];
  // The classifier's code takes thousands of statements to be compiled at its best (a new text costs 400 us at
  // first, 45 us after 8,000): warmed up on new texts first, so no phase pays for it.
  for (let i = 0; i < 10_000; i++)
    await classifySql(`SELECT abalance FROM pgbench_accounts WHERE aid = -${i};`, options);
  console.log(`classification (classifySql with the connection's catalog), CPU per statement:`);
  for (const [label, text, runs] of texts) {
    const us = await cpuPerAsync(runs, (i) => classifySql(text(i), options));
    console.log(`  ${label.padEnd(30)} ${us.toFixed(1)} us`);
  }
  console.log(`the simple protocol's reply (writeResult, ReadyForQuery, one Buffer.concat), CPU per reply:`);
  const replies: [string, StatementOutcome, number][] = [
    ["1 row x 1 column", result(1, 1), RUNS],
    ["1,000 rows x 8 columns", result(8, 1000), RUNS / 200],
  ];
  for (const [label, outcome, runs] of replies) {
    const us = cpuPer(runs, () => {
      const out: Buffer[] = [];
      writeResult(outcome, out);
      out.push(readyForQuery("I"));
      return Buffer.concat(out);
    });
    console.log(`  ${label.padEnd(30)} ${us.toFixed(1)} us`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
