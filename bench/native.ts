/**
 * Native PostgreSQL clients through the wire listener against direct access, in the same run, on a real
 * PostgreSQL (initdb on a free port; the console's store is a database on the same server):
 *  - one-row `SELECT 1` latency, p50/p99 over N runs, node-postgres (simple protocol) direct vs through the
 *    listener with TLS (and in plain text from loopback);
 *  - `SELECT $1::int` the same way with the extended protocol (a parameter);
 *  - `pgbench -S -n -c C -T 10` (select-only) for each C of --clients (default 4 and 16, the aim's count), simple
 *    and extended protocol, direct vs through the listener (TLS), each pair run back to back.
 * The listener runs in this process (the same code the console starts with PG_LISTEN_PORT), so no build is needed;
 * like the console, it follows store changes over LISTEN, so its request caches are trusted (server/store-cache.ts).
 * Usage: npm run bench:native [-- --runs 500 --seconds 10 --clients 4,16]
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import pg from "pg";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const execFileAsync = promisify(execFile);

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "500" },
    seconds: { type: "string", default: "10" },
    clients: { type: "string", default: "4,16" },
    modes: { type: "string", default: "simple,extended" },
    "pgbench-only": { type: "boolean", default: false },
    "cpu-only": { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
const ms = (n: number) => `${n.toFixed(3)} ms`;

async function latency(
  config: pg.ClientConfig,
  query: () => pg.QueryConfig = () => ({ text: "select 1" }),
): Promise<{ p50: number; p99: number }> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    for (let i = 0; i < 20; i++) await client.query(query()); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await client.query(query());
      samples.push(performance.now() - started);
    }
    return summary(samples);
  } finally {
    await client.end();
  }
}

async function pgbench(conninfo: string, env: Record<string, string>, clients: string, mode: string) {
  const { stdout } = await execFileAsync(
    "pgbench",
    ["-S", "-n", "-M", mode, "-c", clients, "-j", clients, "-T", values.seconds, "-r", conninfo],
    { env: { ...process.env, ...env } },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
  const statements = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
  return { tps, latencyMs, statements };
}

async function main() {
  const server = await startPostgres();
  const targetUrl = await createDatabase(server.url, "bench");
  const storeUrl = await createDatabase(server.url, "store");
  await execFileAsync("pgbench", ["-i", "-s", "1", "-q", targetUrl]);
  const dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-bench-native-"));
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
  const account = await createServiceAccount(actor, { name: "bench-bot", groups: ["bench"] });
  const { token } = account;
  // As the console does at start-up (server/bootstrap.ts): without it every request reads the store.
  const { startStoreCacheSignals, stopStoreCacheSignals } = await import("../server/store-cache");
  await startStoreCacheSignals();
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
    const direct = {
      host: server.host,
      port: server.port,
      database: "bench",
      user: server.user,
      password: server.password,
    };
    const through = {
      host: "127.0.0.1",
      port: listener.port,
      database: "bench",
      user: "bench-bot",
      password: token,
    };
    if (!values["pgbench-only"] && !values["cpu-only"]) await latencies(direct, through, account.id);
    async function latencies(direct: pg.ClientConfig, through: pg.ClientConfig, accountId: string) {
      const directLatency = await latency(direct);
      // The pipeline alone, in this process (channel api, pooled target session): what any channel pays.
      const { runSql } = await import("../server/pipeline");
      const { loadPrincipal } = await import("../server/auth");
      const principal = await loadPrincipal(accountId, "token");
      if (!principal) throw new Error("no principal");
      const pipelineSamples: number[] = [];
      for (let i = 0; i < RUNS + 20; i++) {
        const started = performance.now();
        const outcome = await runSql({
          principal,
          connectionName: "bench",
          input: "select 1",
          channel: "api",
        });
        if (outcome.status !== "done") throw new Error(`pipeline: ${outcome.status}`);
        if (i >= 20) pipelineSamples.push(performance.now() - started);
      }
      const pipelineLatency = summary(pipelineSamples);
      const tlsLatency = await latency({ ...through, ssl: { rejectUnauthorized: false } });
      const plainLatency = await latency(through);
      console.log(`SELECT 1, ${RUNS} runs, node-postgres simple protocol (p50 / p99):`);
      console.log(`  direct                       ${ms(directLatency.p50)} / ${ms(directLatency.p99)}`);
      console.log(`  pipeline alone (runSql)      ${ms(pipelineLatency.p50)} / ${ms(pipelineLatency.p99)}`);
      console.log(`  through the listener, TLS    ${ms(tlsLatency.p50)} / ${ms(tlsLatency.p99)}`);
      console.log(`  through the listener, plain  ${ms(plainLatency.p50)} / ${ms(plainLatency.p99)}`);
      const extended = () => ({ text: "select $1::int", values: [1] });
      const directExtended = await latency(direct, extended);
      const tlsExtended = await latency({ ...through, ssl: { rejectUnauthorized: false } }, extended);
      console.log(`  direct, extended protocol    ${ms(directExtended.p50)} / ${ms(directExtended.p99)}`);
      console.log(`  listener, TLS, extended      ${ms(tlsExtended.p50)} / ${ms(tlsExtended.p99)}`);
      console.log(
        `  p50 overhead (TLS): ${ms(tlsLatency.p50 - directLatency.p50)} over direct, of which the listener's`,
      );
      console.log(
        `  own (TLS, wire, pinned session) ${ms(tlsLatency.p50 - pipelineLatency.p50)} over the pipeline alone`,
      );
    }

    // This process's CPU per statement, one client at a time (node-postgres from loopback in plain text, in this
    // process too: its share is the same in every run): a new text each time (pgbench's statement with a literal),
    // the same statement with $1 (one text), and a repeated SELECT 1.
    {
      const client = new pg.Client(through);
      await client.connect();
      const aid = () => 1 + Math.floor(Math.random() * 100_000);
      const kinds: [string, () => pg.QueryConfig][] = [
        [
          "pgbench statement, new text",
          () => ({ text: `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid()};` }),
        ],
        [
          "pgbench statement, $1",
          () => ({ text: "SELECT abalance FROM pgbench_accounts WHERE aid = $1", values: [aid()] }),
        ],
        ["SELECT 1", () => ({ text: "select 1" })],
      ];
      console.log(`gateway CPU per statement (this process), one client, plain text, ${RUNS} statements:`);
      // Socket writes of this process (the client's, the gateway's to the client, the target and the store):
      // each is a system call and a wake-up of another process, the largest item of the CPU profiles.
      const socketWrite = net.Socket.prototype.write;
      let writes = 0;
      net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
        writes++;
        return (socketWrite as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof socketWrite;
      for (const [label, query] of kinds) {
        for (let i = 0; i < 20; i++) await client.query(query());
        const before = process.cpuUsage();
        const started = performance.now();
        writes = 0;
        for (let i = 0; i < RUNS; i++) await client.query(query());
        const cpu = process.cpuUsage(before);
        const elapsed = performance.now() - started;
        console.log(
          `  ${label.padEnd(30)} ${ms((cpu.user + cpu.system) / 1000 / RUNS)} CPU, ${ms(elapsed / RUNS)} wall, ${(writes / RUNS).toFixed(2)} socket writes`,
        );
      }
      net.Socket.prototype.write = socketWrite;
      await client.end();
    }
    if (values["cpu-only"]) return;

    const gateway = `host=127.0.0.1 port=${listener.port} dbname=bench user=bench-bot sslmode=require`;
    const directInfo = `host=${server.host} port=${server.port} dbname=bench user=${server.user}`;
    for (const clients of values.clients.split(",")) {
      for (const mode of values.modes.split(",")) {
        const directBench = await pgbench(directInfo, { PGPASSWORD: server.password }, clients, mode);
        // This process's CPU (the listener, the pipeline, the store's client; nothing else runs in it meanwhile)
        // per statement pgbench counted.
        const cpuBefore = process.cpuUsage();
        const gatewayBench = await pgbench(gateway, { PGPASSWORD: token }, clients, mode);
        const cpu = process.cpuUsage(cpuBefore);
        const cpuPerStatement = (cpu.user + cpu.system) / 1000 / gatewayBench.statements;
        console.log(`pgbench -S -n -M ${mode} -c ${clients} -T ${values.seconds}:`);
        console.log(
          `  direct                     ${directBench.tps.toFixed(0)} tps, ${ms(directBench.latencyMs)} average`,
        );
        console.log(
          `  through the listener, TLS  ${gatewayBench.tps.toFixed(0)} tps, ${ms(gatewayBench.latencyMs)} average, ` +
            `gateway CPU ${ms(cpuPerStatement)} a statement`,
        );
        console.log(`  ratio gateway/direct: ${(gatewayBench.tps / directBench.tps).toFixed(3)} of the TPS`);
      }
    }
  } finally {
    await listener.close();
    await stopStoreCacheSignals();
    const { closeAllPools } = await import("../server/targets/postgres");
    await closeAllPools();
    const { getStore } = await import("../db/store");
    await (await getStore()).close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
