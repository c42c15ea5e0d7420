// Masking benchmark: throughput of maskText, the stream masker and maskRows on generated data, each
// against a plain copy of the same data in the same run, reported as ratios. No thresholds: it prints.
//
//   npx tsx bench/masking.ts            (about a minute)
//   npx tsx bench/masking.ts --quick    (smaller data, for a smoke run)
import { spawnSync } from "node:child_process";

// Server modules import "server-only", which only resolves outside React Server Components under the
// react-server condition; run again with it.
if (!process.execArgv.some((a) => a.includes("react-server"))) {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, "--conditions=react-server", ...process.argv.slice(1)],
    {
      stdio: "inherit",
    },
  );
  process.exit(r.status ?? 1);
}

const { createStreamMasker, defaultMaskingConfig, maskRows, maskText } = await import("../server/masking");
type ColumnRef = import("../server/masking").ColumnRef;

const QUICK = process.argv.includes("--quick");
const TEXT_MB = QUICK ? 4 : 24;
const ROWS = QUICK ? 20_000 : 100_000;
const REPEAT = QUICK ? 3 : 5;

let seed = 42;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const hex = (n: number): string => Array.from({ length: n }, () => "0123456789abcdef"[int(0, 15)]).join("");
const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

// --- data ----------------------------------------------------------------------------------------

const USERS = ["alice", "bob", "carol", "dave", "erin", "frank"];
const PATHS = ["/api/v1/orders", "/api/v1/users", "/healthz", "/api/v1/invoices", "/static/app.js", "/login"];
const SENSITIVE = [
  () => `email=${pick(USERS)}.${int(1, 999)}@example.com`,
  () => `card 4242 4242 4242 ${pad(int(0, 9999), 4)}`.replace(/\d{4}$/, "4242"),
  () => `phone (555) ${int(200, 999)}-${pad(int(0, 9999), 4)}`,
  () => `client ${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
  () => `password=${hex(12)}`,
  () =>
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
  () => "ssn 123-45-6789",
  () => `token=ghp_${hex(36)}`,
];

function logLine(i: number): string {
  const ts = `2024-05-01T${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999), 3)}Z`;
  const line = pick([
    () =>
      `${ts} INFO  [http-${int(1, 8)}] ${pick(["GET", "POST"])} ${pick(PATHS)}/${int(1, 99999)} status=${pick([200, 200, 201, 304, 404])} duration=${int(1, 900)}.${int(0, 9)}ms user=${pick(USERS)} trace=${hex(16)}`,
    () => `${ts} DEBUG [db] query took ${int(1, 300)}ms rows=${int(0, 5000)} table=orders plan=index_scan`,
    () => `${ts} WARN  [jobs] retrying job ${hex(8)} attempt ${int(1, 5)}/5 after ${int(1, 60)}s backoff`,
    () =>
      `${ts} INFO  [billing] invoice INV-2024-${pad(int(0, 99999), 5)} generated for account ${int(1000, 9999)}`,
    () =>
      `${ts} ERROR [worker] TypeError: Cannot read properties of undefined (reading 'id') at handler.js:${int(1, 400)}:${int(1, 80)}`,
  ])();
  // About one line in thirty carries a sensitive value.
  return i % 30 === 0 ? `${line} ${pick(SENSITIVE)()}` : line;
}

function makeText(mb: number): { lines: string[]; chunks: string[]; bytes: number } {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < mb * 1e6; i++) {
    const l = logLine(i);
    lines.push(l);
    bytes += l.length + 1;
  }
  // Chunks built by joining (flat strings, like data decoded from a socket), about 64 KiB each.
  const chunks: string[] = [];
  let cur: string[] = [];
  let size = 0;
  for (const l of lines) {
    cur.push(l);
    size += l.length + 1;
    if (size >= 65536) {
      chunks.push(`${cur.join("\n")}\n`);
      cur = [];
      size = 0;
    }
  }
  if (cur.length > 0) chunks.push(`${cur.join("\n")}\n`);
  return { lines, chunks, bytes };
}

const COLUMNS: ColumnRef[] = [
  { name: "id", table: "customers" },
  { name: "email", table: "customers" },
  { name: "full_name", table: "customers" },
  { name: "created_at", table: "customers" },
  { name: "balance", table: "customers" },
  { name: "status", table: "customers" },
  { name: "notes", table: "customers" },
  { name: "metadata", table: "customers" },
];

function makeRows(n: number): unknown[][] {
  const rows: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const note = pick([
      "called about delivery",
      "prefers email contact",
      "",
      "VIP customer, handle with care",
      i % 20 === 0 ? "paid with card 4242 4242 4242 4242" : "renewal due next month",
      i % 25 === 0 ? "call back on (555) 123-4567" : "no action needed",
    ]);
    const metadata: Record<string, unknown> = {
      plan: pick(["free", "pro", "team"]),
      tags: [pick(["a", "b", "c"]), pick(["x", "y"])],
      prefs: { theme: pick(["dark", "light"]), lang: pick(["en", "de", "fr"]) },
    };
    if (i % 10 === 0) metadata.api_token = `tok_${hex(24)}`;
    if (i % 15 === 0) metadata.last_ip = `10.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
    rows.push([
      i + 1,
      `${pick(USERS)}.${i}@example.com`,
      `${pick(["Ada", "Grace", "Alan", "Linus"])} ${pick(["Lovelace", "Hopper", "Turing", "Torvalds"])}`,
      `2024-0${int(1, 9)}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:00Z`,
      Math.round(rand() * 1e6) / 100,
      pick(["active", "active", "suspended", "closed"]),
      note,
      metadata,
    ]);
  }
  return rows;
}

// --- timing --------------------------------------------------------------------------------------

interface Timing {
  median: number;
  best: number;
}

/**
 * CPU time of this process in ms over REPEAT runs (median and best), after one warm-up run. CPU time
 * rather than wall time, so other work on a shared machine distorts the figures less; masking runs on
 * one thread.
 */
function time(fn: () => unknown): Timing {
  fn();
  const runs: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    runs.push((d.user + d.system) / 1000);
  }
  runs.sort((a, b) => a - b);
  return { median: runs[Math.floor(runs.length / 2)]!, best: runs[0]! };
}

let sink = 0;
const cfg = defaultMaskingConfig("bench-pseudonym-key-0123456789abcdef");

function report(name: string, amount: number, unit: string, t: Timing, baseline: Timing): void {
  const rate = (ms: number): string => (amount / (ms / 1000)).toFixed(1).padStart(8);
  console.log(
    `${name.padEnd(30)} ${rate(t.median)} ${unit} (best ${rate(t.best).trim()})   plain copy ${rate(baseline.median)} ${unit}   ratio ${(t.median / baseline.median).toFixed(1)}x`,
  );
}

const text = makeText(TEXT_MB);
const mb = text.bytes / 1e6;
console.log(
  `text: ${mb.toFixed(1)} MB, ${text.lines.length.toLocaleString("en")} log lines, 1 in 30 with a sensitive value`,
);

const copyChunks = time(() => {
  for (const c of text.chunks) sink += Buffer.from(c, "utf8").toString("utf8").length;
});
const copyLines = time(() => {
  for (const l of text.lines) sink += Buffer.from(l, "utf8").toString("utf8").length;
});

report(
  "maskText, 64 KiB chunks",
  mb,
  "MB/s",
  time(() => {
    for (const c of text.chunks) sink += maskText(c, cfg).text.length;
  }),
  copyChunks,
);

report(
  "maskText, one call per line",
  mb,
  "MB/s",
  time(() => {
    for (const l of text.lines) sink += maskText(l, cfg).text.length;
  }),
  copyLines,
);

report(
  "stream masker, 4 KiB pushes",
  mb,
  "MB/s",
  time(() => {
    const m = createStreamMasker(cfg);
    for (const c of text.chunks) {
      for (let i = 0; i < c.length; i += 4096) sink += m.push(c.slice(i, i + 4096)).length;
    }
    sink += m.flush().length;
  }),
  copyChunks,
);

const rows = makeRows(ROWS);
console.log(
  `\nrows: ${ROWS.toLocaleString("en")} x ${COLUMNS.length} columns (ids, emails, names, timestamps, numbers, notes, JSON)`,
);
const copyJson = time(() => {
  sink += (JSON.parse(JSON.stringify(rows)) as unknown[]).length;
});
const copySlice = time(() => {
  sink += rows.map((r) => r.slice()).length;
});
const maskMs = time(() => {
  sink += maskRows(COLUMNS, rows, cfg).masked.length;
});
report("maskRows vs JSON round trip", ROWS / 1000, "k rows/s", maskMs, copyJson);
report("maskRows vs row.slice() copy", ROWS / 1000, "k rows/s", maskMs, copySlice);
const masked = maskRows(COLUMNS, rows, cfg).masked;
console.log(
  `masked cells: ${masked.length.toLocaleString("en")} of ${(ROWS * COLUMNS.length).toLocaleString("en")}`,
);

// bench:sql's table as the gateway sees it (column types from PostgreSQL, text as postgres.js gives it): every row
// holds one email and one phone to mask, one in ten a card; names, notes and amounts hold digits but nothing to mask.
const SQL_COLUMNS: ColumnRef[] = [
  ["id", "int4"],
  ["full_name", "text"],
  ["email", "text"],
  ["phone", "text"],
  ["card", "text"],
  ["balance", "numeric"],
  ["note", "text"],
  ["created_at", "timestamptz"],
].map(([name, type]) => ({ name: name!, type, table: "people", schema: "public" }));

function makeSqlRows(n: number): unknown[][] {
  return Array.from({ length: n }, (_, i) => {
    const g = i + 1;
    return [
      g,
      `Person ${g}`,
      `user${g}@example.com`,
      `+1 (555) ${pad(g % 1000, 3)}-${pad(g % 10000, 4)}`,
      g % 10 === 0 ? "4111 1111 1111 1111" : "n/a",
      (g * 1.25).toFixed(2),
      `order ${g} shipped on 2026-01-${pad((g % 28) + 1)}`,
      `2026-12-07 06:${pad(g % 60)}:00+00`,
    ];
  });
}

const sqlRows = makeSqlRows(ROWS);
console.log(
  `\nrows: bench:sql's table, ${ROWS.toLocaleString("en")} x 8 (typed columns; an email and a phone per row)`,
);
const sqlCopy = time(() => {
  sink += (JSON.parse(JSON.stringify(sqlRows)) as unknown[]).length;
});
const sqlMask = time(() => {
  sink += maskRows(SQL_COLUMNS, sqlRows, cfg).masked.length;
});
report("maskRows vs JSON round trip", ROWS / 1000, "k rows/s", sqlMask, sqlCopy);
console.log(
  `masked cells: ${maskRows(SQL_COLUMNS, sqlRows, cfg).masked.length.toLocaleString("en")}; ${((sqlMask.median * 1000) / (ROWS * 5)).toFixed(2)} us per scanned cell (5 a row)`,
);

// The same table column by column (the other cells null): where the mask stage's time goes, per kind of value.
console.log("\nper column of bench:sql's table (CPU, median):");
for (let c = 0; c < SQL_COLUMNS.length; c++) {
  const only = sqlRows.map((row) => row.map((v, i) => (i === c ? v : null)));
  const t = time(() => {
    sink += maskRows(SQL_COLUMNS, only, cfg).masked.length;
  });
  const found = maskRows(SQL_COLUMNS, only, cfg).masked.length;
  console.log(
    `  ${SQL_COLUMNS[c]!.name.padEnd(12)} ${t.median.toFixed(0).padStart(5)} ms (best ${t.best.toFixed(0)}), ${((t.median * 1e6) / ROWS).toFixed(0)} ns a cell, ${found.toLocaleString("en")} masked`,
  );
}

if (sink === -1) console.log("unreachable");
