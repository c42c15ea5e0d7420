/**
 * The native listener's protocol features against direct access, in the same run, on a real PostgreSQL:
 *  - `COPY (SELECT ...) TO STDOUT` of 10,000 rows with psql, direct and through the listener, against the same
 *    SELECT through the listener (what COPY adds over the SELECT it runs as);
 *  - `SELECT $1::int` with postgres.js `prepare: true` (Parse, Describe of the statement, then Bind/Execute),
 *    direct and through the listener, and node-postgres's extended protocol (Describe of the portal) through it.
 * Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/native-protocol.ts [--runs 200]
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import pg from "pg";
import postgres from "postgres";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const execFileAsync = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: "string", default: "200" } } });
const RUNS = Number(values.runs);

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function timed(runs: number, body: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(10, runs); i++) await body(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await body();
    samples.push(performance.now() - started);
  }
  return summary(samples);
}

async function main() {
  const server = await startPostgres();
  const targetUrl = await createDatabase(server.url, "bench");
  const storeUrl = await createDatabase(server.url, "store");
  const setup = postgres(targetUrl, { max: 1, onnotice: () => {} });
  await setup.unsafe(
    "create table rows (id int primary key, name text, amount numeric); insert into rows select i, 'name ' || i, i * 1.5 from generate_series(1, 10000) i",
  );
  await setup.end();
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-protocol-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  process.env.RATE_LIMIT_PER_MINUTE = "100000000";
  const actor = { id: null, label: "bench" };
  const { createGroup, createServiceAccount } = await import("../server/auth");
  const { createConnection } = await import("../server/connections");
  await createGroup(actor, { name: "bench" });
  await createConnection(actor, {
    kind: "postgres",
    name: "bench",
    host: server.host,
    port: server.port,
    database: "bench",
    username: server.user,
    password: server.password,
    groups: ["bench"],
  });
  const { token } = await createServiceAccount(actor, { name: "bench-bot", groups: ["bench"] });
  const { startPgListener } = await import("../server/listeners");
  const listener = await startPgListener({
    config: {
      port: 0,
      host: "127.0.0.1",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: undefined,
    },
    dataDir,
    publicUrl: "http://localhost:3000",
  });
  try {
    const directInfo = `host=${server.host} port=${server.port} dbname=bench user=${server.user}`;
    const throughInfo = `host=127.0.0.1 port=${listener.port} dbname=bench user=bench-bot sslmode=disable`;
    const psql = (info: string, password: string, command: string) =>
      execFileAsync("psql", [info, "-X", "-q", "-A", "-t", "-c", command], {
        env: { ...process.env, PGPASSWORD: password },
        maxBuffer: 64 * 1024 * 1024,
      });
    const query = "select id, name, amount from rows order by id";
    const copyRuns = Math.max(5, Math.round(RUNS / 20));
    const copyDirect = await timed(copyRuns, () =>
      psql(directInfo, server.password, `copy (${query}) to stdout`),
    );
    const copyThrough = await timed(copyRuns, () => psql(throughInfo, token, `copy (${query}) to stdout`));
    const selectThrough = await timed(copyRuns, () => psql(throughInfo, token, query));
    console.log(`10,000 rows with psql (connect included), ${copyRuns} runs, p50 / p99:`);
    console.log(`  COPY TO STDOUT, direct          ${ms(copyDirect.p50)} / ${ms(copyDirect.p99)}`);
    console.log(`  COPY TO STDOUT, listener        ${ms(copyThrough.p50)} / ${ms(copyThrough.p99)}`);
    console.log(`  the SELECT itself, listener     ${ms(selectThrough.p50)} / ${ms(selectThrough.p99)}`);
    console.log(`  COPY / SELECT through the listener: ${(copyThrough.p50 / selectThrough.p50).toFixed(2)}`);

    const direct = postgres({
      host: server.host,
      port: server.port,
      database: "bench",
      username: server.user,
      password: server.password,
      prepare: true,
      max: 1,
    });
    const through = postgres({
      host: "127.0.0.1",
      port: listener.port,
      database: "bench",
      username: "bench-bot",
      password: token,
      ssl: false,
      prepare: true,
      max: 1,
    });
    let n = 0;
    const jsDirect = await timed(RUNS, () => direct`select ${++n}::int as n`);
    const jsThrough = await timed(RUNS, () => through`select ${++n}::int as n`);
    await direct.end();
    await through.end();
    const nodePg = new pg.Client({
      host: "127.0.0.1",
      port: listener.port,
      database: "bench",
      user: "bench-bot",
      password: token,
    });
    await nodePg.connect();
    const pgThrough = await timed(RUNS, () => nodePg.query("select $1::int as n", [++n]));
    await nodePg.end();
    console.log(`SELECT $1::int, ${RUNS} runs, p50 / p99 (plain text from loopback):`);
    console.log(`  postgres.js prepare: true, direct     ${ms(jsDirect.p50)} / ${ms(jsDirect.p99)}`);
    console.log(`  postgres.js prepare: true, listener   ${ms(jsThrough.p50)} / ${ms(jsThrough.p99)}`);
    console.log(`  node-postgres extended, listener      ${ms(pgThrough.p50)} / ${ms(pgThrough.p99)}`);
  } finally {
    await listener.close();
    const { closeAllPools } = await import("../server/targets/postgres");
    await closeAllPools();
    const { getStore } = await import("../db/store");
    await (await getStore()).close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
