/**
 * SQL through the gateway against direct access, in the same run, on a real PostgreSQL (initdb on a free port):
 *  - one-row query: latency p50/p99 over N runs, postgres.js direct vs the gateway's HTTP API (exec);
 *  - the one-row query from C concurrent clients (--concurrency, default 8; 0 skips it): throughput and latency
 *    p50, direct (C connections) vs the gateway (C kept-alive HTTP connections); the recorder's group commit
 *    shares its commits between these requests;
 *  - a 100,000-row, 8-column result with masking on: wall time direct vs gateway.
 * Prints ratios gateway/direct. Usage: npm run bench:sql [-- --runs 1000 --rows 100000 --concurrency 8 --skip-build]
 * Builds the console first when needed (node scripts/start.mjs --build-only) unless --skip-build. Extra
 * environment for the console (e.g. DATA_PATH_DISPATCH=off) is passed through.
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { startConsole } from "../e2e/support/console";
import { parseServerTiming } from "../server/http/server-timing";
import { createDatabase, startPostgres } from "../test/harness/postgres";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    rows: { type: "string", default: "100000" },
    "skip-build": { type: "boolean", default: false },
    store: { type: "string", default: "pglite" },
    client: { type: "string", default: "http" },
    concurrency: { type: "string", default: "8" },
  },
});
const RUNS = Number(values.runs);
const ROWS = Number(values.rows);
const CONCURRENCY = Number(values.concurrency);

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function main() {
  if (!values["skip-build"])
    execFileSync(process.execPath, ["scripts/start.mjs", "--build-only"], { stdio: "inherit" });
  const pg = await startPostgres();
  const url = await createDatabase(pg.url, "bench");
  const setup = postgres(url, { max: 1, onnotice: () => {} });
  await setup.unsafe(`
    create table people as
    select g as id,
           'Person ' || g as full_name,
           'user' || g || '@example.com' as email,
           '+1 (555) ' || lpad((g % 1000)::text, 3, '0') || '-' || lpad((g % 10000)::text, 4, '0') as phone,
           case when g % 10 = 0 then '4111 1111 1111 1111' else 'n/a' end as card,
           (g * 1.25)::numeric(12,2) as balance,
           'order ' || g || ' shipped on 2026-01-' || lpad(((g % 28) + 1)::text, 2, '0') as note,
           now() - (g || ' minutes')::interval as created_at
    from generate_series(1, ${ROWS}) g;
    analyze people;`);
  await setup.end();

  const storeUrl = values.store === "postgres" ? await createDatabase(pg.url, "store") : undefined;
  const gateway = await startConsole({
    ...(storeUrl && { DATABASE_URL: storeUrl }),
    ADMIN_EMAIL: "bench@example.com",
    ADMIN_PASSWORD: "bench-password-1",
    DEMO_TARGET: "off",
    RATE_LIMIT_PER_MINUTE: "1000000",
  });
  try {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      execFileSync(
        process.execPath,
        ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs", "scripts/admin.ts", ...args],
        {
          env: {
            ...process.env,
            DATA_DIR: gateway.dataDir,
            ...(storeUrl && { DATABASE_URL: storeUrl }),
            ...env,
          },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        },
      ).trim();
    cli(["group", "add", "bench"]);
    cli(
      [
        "connection",
        "add",
        "--name",
        "bench",
        "--kind",
        "postgres",
        "--host",
        pg.host,
        "--port",
        String(pg.port),
        "--database",
        "bench",
        "--username",
        pg.user,
        "--group",
        "bench",
      ],
      { PORTCULLIS_TARGET_PASSWORD: pg.password },
    );
    const token = cli(["token", "create", "--name", "bench-bot", "--group", "bench"]);
    let lastTiming: Record<string, number> = {};
    // The HTTP client: node:http with a kept-alive connection (what a service calling the API uses), or fetch.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (path: string, body: string, headers: Record<string, string>, via = agent) =>
      values.client === "fetch"
        ? fetch(`${gateway.url}${path}`, { method: "POST", headers, body }).then(async (r) => ({
            status: r.status,
            timing: r.headers.get("server-timing"),
            text: await r.text(),
          }))
        : new Promise<{ status: number; timing: string | null; text: string }>((resolve, reject) => {
            const req = http.request(
              { host: "127.0.0.1", port: gateway.port, path, method: "POST", agent: via, headers },
              (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    timing: (res.headers["server-timing"] as string | undefined) ?? null,
                    text: Buffer.concat(chunks).toString("utf8"),
                  }),
                );
                res.on("error", reject);
              },
            );
            req.on("error", reject);
            req.end(body);
          });
    const execPath = "/api/v1/connections/bench/exec";
    const exec = async (input: string, rowLimit?: number, via = agent) => {
      const response = await post(
        execPath,
        JSON.stringify({ input, ...(rowLimit && { rowLimit }) }),
        { authorization: `Bearer ${token}`, "content-type": "application/json" },
        via,
      );
      const body = JSON.parse(response.text) as { status: string; rows?: unknown[][]; masked?: unknown[] };
      if (response.status !== 200)
        throw new Error(`gateway answered ${response.status}: ${response.text.slice(0, 300)}`);
      lastTiming = parseServerTiming(response.timing);
      return body;
    };
    // The floor: the same exchange refused before any work (no credentials: 401 from the same route).
    const refused = async () => {
      const response = await post(execPath, '{"input":"select 1 as one"}', {
        "content-type": "application/json",
      });
      if (response.status !== 401) throw new Error(`expected 401, got ${response.status}`);
    };
    const direct = postgres({
      host: pg.host,
      port: pg.port,
      database: "bench",
      username: pg.user,
      password: pg.password,
      max: 1,
      prepare: false,
    });

    // Warm-up both paths. The gateway's pool to the target grows while a connection is being cleaned after each
    // run (a new connection costs a SCRAM handshake, several ms of CPU), so the warm-up lasts until it is full.
    for (let i = 0; i < 300; i++) {
      await direct.unsafe("select 1 as one");
      await exec("select 1 as one");
    }
    const directSamples: number[] = [];
    const gatewaySamples: number[] = [];
    const stageSamples = new Map<string, number[]>();
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      await direct.unsafe("select 1 as one");
      directSamples.push(performance.now() - t);
      t = performance.now();
      await exec("select 1 as one");
      const took = performance.now() - t;
      gatewaySamples.push(took);
      const inside = Object.values(lastTiming).reduce((a, b) => a + b, 0);
      for (const [stage, value] of Object.entries({ ...lastTiming, "outside the handler": took - inside }))
        stageSamples.set(stage, [...(stageSamples.get(stage) ?? []), value]);
    }
    const floorSamples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await refused();
      floorSamples.push(performance.now() - t);
    }
    const d = summary(directSamples);
    const g = summary(gatewaySamples);
    const f = summary(floorSamples);

    // Concurrent clients: each runs its share of RUNS one after another, all at once; direct first, then gateway.
    const concurrent = async (run: (client: number) => Promise<unknown>) => {
      const samples: number[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, client) => {
          for (let i = 0; i < Math.ceil(RUNS / CONCURRENCY); i++) {
            const t = performance.now();
            await run(client);
            samples.push(performance.now() - t);
          }
        }),
      );
      return { perSecond: (samples.length / (performance.now() - started)) * 1000, ...summary(samples) };
    };
    let concurrentDirect: Awaited<ReturnType<typeof concurrent>> | undefined;
    let concurrentGateway: Awaited<ReturnType<typeof concurrent>> | undefined;
    if (CONCURRENCY > 0) {
      const pool = postgres({
        host: pg.host,
        port: pg.port,
        database: "bench",
        username: pg.user,
        password: pg.password,
        max: CONCURRENCY,
        prepare: false,
      });
      const agents = Array.from(
        { length: CONCURRENCY },
        () => new http.Agent({ keepAlive: true, maxSockets: 1 }),
      );
      await concurrent(() => pool.unsafe("select 1 as one")); // warm-up: the pool opens its connections
      await concurrent((client) => exec("select 1 as one", undefined, agents[client]));
      concurrentDirect = await concurrent(() => pool.unsafe("select 1 as one"));
      concurrentGateway = await concurrent((client) => exec("select 1 as one", undefined, agents[client]));
      await pool.end();
      for (const a of agents) a.destroy();
    }

    const bigStages: Record<string, number>[] = [];
    const bigQuery =
      "select id, full_name, email, phone, card, balance, note, created_at from people order by id";
    const bigDirect: number[] = [];
    const bigGateway: number[] = [];
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const rows = await direct.unsafe(bigQuery).values();
      bigDirect.push(performance.now() - t);
      if (rows.length !== ROWS) throw new Error(`direct returned ${rows.length} rows`);
      t = performance.now();
      const body = await exec(bigQuery, ROWS);
      bigGateway.push(performance.now() - t);
      bigStages.push(lastTiming);
      if (body.rows?.length !== ROWS) throw new Error(`gateway returned ${body.rows?.length} rows`);
      if ((body.masked?.length ?? 0) < ROWS) throw new Error("the gateway did not mask the emails");
      if (JSON.stringify(body.rows.slice(0, 20)).includes("user1@example.com"))
        throw new Error("an email came back unmasked");
    }
    await direct.end();
    const bd = Math.min(...bigDirect);
    const bg = Math.min(...bigGateway);

    console.log(
      `\nSQL through the gateway vs direct (same run, ${RUNS} one-row queries, ${ROWS}-row result; store: ${values.store}; HTTP client: ${values.client})\n`,
    );
    console.log("| measure | direct | gateway | gateway/direct | gateway overhead |");
    console.log("| --- | --- | --- | --- | --- |");
    console.log(
      `| one row, p50 | ${ms(d.p50)} | ${ms(g.p50)} | ${(g.p50 / d.p50).toFixed(1)}x | +${ms(g.p50 - d.p50)} |`,
    );
    console.log(
      `| one row, p99 | ${ms(d.p99)} | ${ms(g.p99)} | ${(g.p99 / d.p99).toFixed(1)}x | +${ms(g.p99 - d.p99)} |`,
    );
    console.log(`| HTTP exchange alone (exec refused with 401), p50 | | ${ms(f.p50)} | | |`);
    if (concurrentDirect && concurrentGateway) {
      const cd = concurrentDirect;
      const cg = concurrentGateway;
      console.log(
        `| one row, ${CONCURRENCY} concurrent clients, queries/s | ${cd.perSecond.toFixed(0)} | ${cg.perSecond.toFixed(0)} | ${(cg.perSecond / cd.perSecond).toFixed(2)}x | |`,
      );
      console.log(
        `| one row, ${CONCURRENCY} concurrent clients, p50 | ${ms(cd.p50)} | ${ms(cg.p50)} | ${(cg.p50 / cd.p50).toFixed(1)}x | +${ms(cg.p50 - cd.p50)} |`,
      );
    }
    console.log(
      `| ${ROWS} rows x 8 columns, masked (best of 3) | ${ms(bd)} | ${ms(bg)} | ${(bg / bd).toFixed(2)}x | +${ms(bg - bd)} |`,
    );
    console.log(
      `\nWhere the gateway's time goes (Server-Timing; median per stage over the ${RUNS} one-row runs; "request" is reading, authenticating and parsing the request; "outside the handler" is Node's HTTP parsing, the sockets and the client)\n`,
    );
    console.log("| stage | one row, p50 | one row, slowest 1% (mean) | big result (best run) |");
    console.log("| --- | --- | --- | --- |");
    const best = bigStages[bigGateway.indexOf(bg)] ?? {};
    // Where the tail goes: the stages of the slowest 1% of the one-row runs.
    const slowest = gatewaySamples
      .map((took, i) => [took, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, Math.max(1, Math.floor(RUNS / 100)))
      .map(([, i]) => i);
    for (const [stage, samples] of stageSamples) {
      const tail = slowest.reduce((sum, i) => sum + (samples[i] ?? 0), 0) / slowest.length;
      console.log(
        `| ${stage} | ${ms(summary(samples).p50)} | ${ms(tail)} | ${best[stage] === undefined ? "" : ms(best[stage])} |`,
      );
    }
    agent.destroy();
  } finally {
    await gateway.stop();
    await pg.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
