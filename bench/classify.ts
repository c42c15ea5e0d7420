// Benchmark of the SQL classifier (server/policy): time per statement for a short and a ~10 KB statement,
// next to libpg-query's parse alone in the same run, so the cost the classifier adds shows as a ratio.
// Run: npx tsx bench/classify.ts [runs]. Prints figures; asserts nothing.

import { register } from "node:module";

// `server-only` throws outside a React Server build; outside Next.js it stands for nothing.
register(
  `data:text/javascript,${encodeURIComponent(
    'export async function resolve(s, c, next) { return s === "server-only" ? { url: "data:text/javascript,", shortCircuit: true } : next(s, c); }',
  )}`,
);

const { classifySql } = await import("../server/policy/classify-statement");
const { createTargetCatalog } = await import("../server/policy/catalog");

// The target's catalog with every answer cached (what a connection in use has): orders is a table, and a view
// over it reads one more table. The first classification fills the cache; only cached runs are measured.
const catalog = createTargetCatalog(
  async (text) => {
    if (!text.includes("pg_class")) return [];
    return [
      { schema: "public", name: "orders", kind: "r", definition: null },
      { schema: "public", name: "customers", kind: "r", definition: null },
      {
        schema: "public",
        name: "open_orders",
        kind: "v",
        definition:
          " SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'open'::text;",
      },
    ];
  },
  { ttlMs: Number.POSITIVE_INFINITY },
);
const { loadModule, parseSync } = await import("libpg-query");

const SHORT =
  "SELECT id, total FROM public.orders WHERE customer_id = 42 AND status = 'open' ORDER BY created_at DESC LIMIT 50";

function largeStatement(targetBytes: number): string {
  const columns: string[] = [];
  const joins: string[] = [];
  for (let i = 1; joins.join("\n").length + columns.join(",\n").length < targetBytes; i++) {
    joins.push(`LEFT JOIN sales.line_items li${i} ON li${i}.order_id = o.id AND li${i}.position = ${i}`);
    const arms = Array.from(
      { length: 4 },
      (_, k) => `WHEN li${i}.status = 'state_${k}' THEN li${i}.amount * ${k + 1}.5`,
    ).join(" ");
    columns.push(`CASE ${arms} ELSE coalesce(li${i}.amount, 0) END AS amount_${i}`);
  }
  return `SELECT o.id, o.created_at,\n${columns.join(",\n")}\nFROM public.orders o\n${joins.join("\n")}\nWHERE o.created_at > now() - interval '30 days' AND o.status IN ('open', 'paid')\nORDER BY o.created_at DESC\nLIMIT 100`;
}

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length };
}

async function sample(run: () => unknown, runs: number, into: number[]): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    into.push((performance.now() - start) * 1000);
  }
}

/** Alternates blocks of the two measurements so neither gets a warmer machine; warm-up is discarded. */
async function compare(
  sql: string,
  runs: number,
  withCatalog: boolean,
): Promise<{ classify: Stats; parse: Stats }> {
  const rounds = 5;
  const perRound = Math.ceil(runs / rounds);
  const classifyOnce = () => classifySql(sql, withCatalog ? { catalog } : {});
  await sample(() => parseSync(sql), perRound, []);
  await sample(classifyOnce, perRound, []);
  const parse: number[] = [];
  const classify: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await sample(() => parseSync(sql), perRound, parse);
    await sample(classifyOnce, perRound, classify);
  }
  return { classify: stats(classify), parse: stats(parse) };
}

const runs = Number(process.argv[2] ?? 5000);
const large = largeStatement(10_000);
await loadModule();
const check = await classifySql(large);
if (check.class !== "read") throw new Error(`the large statement classified as ${check.class}`);
const viewCheck = await classifySql("SELECT * FROM open_orders", { catalog });
if (viewCheck.class !== "read" || !viewCheck.statements[0]?.tables.includes("customers")) {
  throw new Error(`the view read classified as ${viewCheck.class}: ${viewCheck.statements[0]?.tables}`);
}

const rows: string[][] = [];
const VIEW_READ = "SELECT id, total FROM open_orders WHERE name = 'Ada' LIMIT 10";
for (const [name, sql, count, withCatalog] of [
  ["short", SHORT, runs, false],
  ["short, catalog cached", SHORT, runs, true],
  ["view, catalog cached", VIEW_READ, runs, true],
  ["~10 KB", large, Math.max(200, Math.floor(runs / 10)), false],
] as const) {
  const { classify, parse } = await compare(sql, count, withCatalog);
  const us = (x: number) => x.toFixed(1);
  rows.push([
    name,
    String(new TextEncoder().encode(sql).length),
    String(count),
    us(classify.p50),
    us(classify.p99),
    us(classify.mean),
    us(parse.p50),
    us(parse.p99),
    us(parse.mean),
    (classify.mean / parse.mean).toFixed(2),
  ]);
}

const header = [
  "statement",
  "bytes",
  "runs",
  "classify p50 µs",
  "p99 µs",
  "mean µs",
  "parse p50 µs",
  "p99 µs",
  "mean µs",
  "classify/parse",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
console.log(`node ${process.version}, libpg-query (PostgreSQL 18 parser, WebAssembly)`);
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
