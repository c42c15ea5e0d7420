/**
 * Browser terminals through the gateway against direct ssh2, in the same run, on a real sshd:
 *  - keystroke round trip (a key typed at a bash prompt until its echo comes back): p50 / p99;
 *  - bulk output: `cat` of a generated file (50 MB by default) until a marker after it arrives.
 * The gateway path is the console's /ws/terminal endpoint with masking, the screen emulation, command rules
 * and recording on. Prints ratios gateway/direct. Needs root (the sshd harness creates a user) and a built
 * console. Usage: node --import tsx --import ./scripts/server-only-hook.mjs bench/terminal.ts
 *   [-- --keys 300 --megabytes 50]
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Client, type ClientChannel } from "ssh2";
import WebSocket from "ws";
import { startConsole } from "../e2e/support/console";
import { type SshdServer, startSshd } from "../test/harness/sshd";

const { values } = parseArgs({
  options: { keys: { type: "string", default: "300" }, megabytes: { type: "string", default: "50" } },
});
const KEYS = Number(values.keys);
const BYTES = Number(values.megabytes) * 1024 * 1024;
const ADMIN = { email: "bench@example.com", password: "bench-password-1" };

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** The console process serving `dataDir` (its environment names it), for its CPU time. */
function consolePid(dataDir: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (environ.includes(`DATA_DIR=${dataDir}`)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/**
 * CPU seconds (user + system) the process has used so far. On a shared, loaded machine wall time swings
 * with the neighbours; CPU time is what the gateway itself spends.
 */
function cpuSeconds(pid: number | undefined): { all: number; main: number } {
  if (pid === undefined) return { all: Number.NaN, main: Number.NaN };
  const of = (file: string) => {
    const fields = readFileSync(file, "latin1").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  // The whole process (every thread), and its main thread alone (the event loop; the screen runs in a worker).
  return { all: of(`/proc/${pid}/stat`), main: of(`/proc/${pid}/task/${pid}/stat`) };
}
/** CPU seconds of each thread of the process, by thread id, with the thread's name. */
function threadCpu(pid: number | undefined): Map<string, { name: string; cpu: number }> {
  const threads = new Map<string, { name: string; cpu: number }>();
  if (pid === undefined) return threads;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1");
      const fields = stat.split(") ")[1]?.split(" ") ?? [];
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "latin1").trim();
      threads.set(tid, { name, cpu: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // the thread ended
    }
  }
  return threads;
}

/** The threads that spent at least 50 ms between two readings, busiest first ("name tid: seconds"). */
function busiestThreads(
  pid: number | undefined,
  from: Map<string, { name: string; cpu: number }>,
  to: Map<string, { name: string; cpu: number }>,
): string {
  return [...to.entries()]
    .map(([tid, t]) => ({ tid, name: t.name, cpu: t.cpu - (from.get(tid)?.cpu ?? 0) }))
    .filter((t) => t.cpu >= 0.05)
    .sort((a, b) => b.cpu - a.cpu)
    .map((t) => `${String(t.tid) === String(pid) ? "main" : t.name} ${t.tid}: ${t.cpu.toFixed(2)} s`)
    .join(", ");
}

const cpuSince = (from: { all: number; main: number }, to: { all: number; main: number }) => ({
  all: to.all - from.all,
  main: to.main - from.main,
});

/** A terminal as the bench drives it: write keys, wait for output. */
interface Pty {
  write(data: string): void;
  /** Resolves when the output received since the last call contains `text`; returns bytes received. */
  waitFor(text: string, timeoutMs?: number): Promise<number>;
  close(): void;
}

function ptyOver(
  onData: (listener: (chunk: string) => void) => void,
  write: (d: string) => void,
  close: () => void,
) {
  let seen = "";
  let bytes = 0;
  let waiter: { text: string; resolve: (n: number) => void } | undefined;
  onData((chunk) => {
    bytes += chunk.length;
    seen = (seen + chunk).slice(-4096);
    if (waiter && seen.includes(waiter.text)) {
      const w = waiter;
      waiter = undefined;
      seen = "";
      const n = bytes;
      bytes = 0;
      w.resolve(n);
    }
  });
  const pty: Pty = {
    write,
    close,
    waitFor(text, timeoutMs = 600_000) {
      return new Promise((resolve, reject) => {
        if (seen.includes(text)) {
          seen = "";
          const n = bytes;
          bytes = 0;
          resolve(n);
          return;
        }
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${JSON.stringify(text)}`)),
          timeoutMs,
        );
        waiter = {
          text,
          resolve: (n) => {
            clearTimeout(timer);
            resolve(n);
          },
        };
      });
    },
  };
  return pty;
}

function directPty(target: { host: string; port: number; username: string; password: string }): Promise<Pty> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("error", reject);
    client.on("ready", () =>
      client.shell({ term: "xterm-256color", cols: 120, rows: 40 }, (err, stream: ClientChannel) => {
        if (err) return reject(err);
        const decoder = new TextDecoder();
        resolve(
          ptyOver(
            (listener) => stream.on("data", (b: Buffer) => listener(decoder.decode(b, { stream: true }))),
            (d) => stream.write(d),
            () => client.end(),
          ),
        );
      }),
    );
    client.connect({ ...target, hostVerifier: () => true });
  });
}

async function signIn(base: string): Promise<string> {
  const csrfResponse = await fetch(`${base}/api/auth/csrf`);
  const cookies = csrfResponse.headers.getSetCookie().map((c) => c.split(";")[0]);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const response = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
    body: new URLSearchParams({ csrfToken, email: ADMIN.email, password: ADMIN.password, json: "true" }),
  });
  cookies.push(...response.headers.getSetCookie().map((c) => c.split(";")[0]));
  return cookies.join("; ");
}

function gatewayPty(base: string, cookie: string, connection: string): Promise<Pty> {
  return new Promise((resolve, reject) => {
    const url = `${base.replace(/^http/, "ws")}/ws/terminal?connection=${connection}&cols=120&rows=40`;
    const ws = new WebSocket(url, { headers: { cookie } });
    const decoder = new TextDecoder();
    const listeners: ((chunk: string) => void)[] = [];
    ws.on("message", (data, isBinary) => {
      if (!isBinary) {
        const message = JSON.parse(data.toString()) as { type: string; message?: string };
        if (message.type === "ready")
          resolve(
            ptyOver(
              (l) => listeners.push(l),
              (d) => ws.send(JSON.stringify({ type: "input", data: d })),
              () => ws.close(),
            ),
          );
        if (message.type === "error") reject(new Error(message.message));
        return;
      }
      const text = decoder.decode(data as Buffer, { stream: true });
      for (const l of listeners) l(text);
    });
    ws.on("error", reject);
  });
}

async function keystrokes(pty: Pty): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    const start = performance.now();
    pty.write(key);
    await pty.waitFor(key, 10_000);
    samples.push(performance.now() - start);
    if (i % 50 === 49) {
      pty.write("\u0015");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  pty.write("\u0015");
  await new Promise((r) => setTimeout(r, 100));
  return samples;
}

async function bulk(pty: Pty): Promise<{ seconds: number; bytes: number }> {
  const start = performance.now();
  pty.write("cat /tmp/portcullis-bench.txt; echo BENCH-$((40+2))-DONE\r");
  const bytes = await pty.waitFor("BENCH-42-DONE");
  return { seconds: (performance.now() - start) / 1000, bytes };
}

async function main() {
  const sshd = await startSshd();
  try {
    await measure(sshd);
  } finally {
    await sshd.stop();
  }
}

async function measure(sshd: SshdServer) {
  const gateway = await startConsole({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO_TARGET: "off",
  });
  try {
    const cookie = await signIn(gateway.url);
    const created = await fetch(`${gateway.url}/api/v1/connections`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({
        kind: "ssh",
        name: "bench-box",
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        password: sshd.password,
        groups: [],
      }),
    });
    if (created.status !== 201) throw new Error(`creating the connection failed: ${await created.text()}`);

    const direct = await directPty(sshd);
    await direct.waitFor("$ ");
    // Log-like lines: realistic terminal output, with a masked value now and then.
    const line =
      "2026-11-23T19:00:00Z INFO api request handled path=/v1/items status=200 ms=12 user=u-1234\n";
    direct.write(
      `yes '${line.trimEnd()}' | head -c ${BYTES} > /tmp/portcullis-bench.txt; echo SETUP-$((1+1))-DONE\r`,
    );
    await direct.waitFor("SETUP-2-DONE");

    const viaGateway = await gatewayPty(gateway.url, cookie, "bench-box");
    await viaGateway.waitFor("$ ");
    await new Promise((r) => setTimeout(r, 300));

    const pid = consolePid(gateway.dataDir);
    const keysDirect = summary(await keystrokes(direct));
    let cpu = cpuSeconds(pid);
    const keysGateway = summary(await keystrokes(viaGateway));
    const keysCpu = cpuSince(cpu, cpuSeconds(pid));
    const bulkDirect = await bulk(direct);
    cpu = cpuSeconds(pid);
    const threadsBefore = threadCpu(pid);
    const bulkGateway = await bulk(viaGateway);
    const bulkCpu = cpuSince(cpu, cpuSeconds(pid));
    const bulkThreads = busiestThreads(pid, threadsBefore, threadCpu(pid));
    const mbps = (b: { seconds: number; bytes: number }) => b.bytes / 1024 / 1024 / b.seconds;

    console.log(`\nkeystroke round trip (${KEYS} keys at a bash prompt)`);
    console.log(`  direct ssh2   p50 ${keysDirect.p50.toFixed(2)} ms   p99 ${keysDirect.p99.toFixed(2)} ms`);
    console.log(
      `  gateway (ws)  p50 ${keysGateway.p50.toFixed(2)} ms   p99 ${keysGateway.p99.toFixed(2)} ms`,
    );
    console.log(
      `  ratio         p50 ${(keysGateway.p50 / keysDirect.p50).toFixed(2)}x   p99 ${(keysGateway.p99 / keysDirect.p99).toFixed(2)}x`,
    );
    console.log(
      `  console CPU   ${((keysCpu.all * 1000) / KEYS).toFixed(2)} ms a key (main thread ${((keysCpu.main * 1000) / KEYS).toFixed(2)} ms)`,
    );
    console.log(`\nbulk output (cat of ${values.megabytes} MB)`);
    console.log(`  direct ssh2   ${bulkDirect.seconds.toFixed(2)} s   ${mbps(bulkDirect).toFixed(1)} MB/s`);
    console.log(`  gateway (ws)  ${bulkGateway.seconds.toFixed(2)} s   ${mbps(bulkGateway).toFixed(1)} MB/s`);
    console.log(`  ratio         ${(bulkGateway.seconds / bulkDirect.seconds).toFixed(2)}x the time`);
    console.log(
      `  console CPU   ${bulkCpu.all.toFixed(2)} s for the gateway's cat (main thread ${bulkCpu.main.toFixed(2)} s)`,
    );
    console.log(`  by thread     ${bulkThreads}\n`);
    direct.write("rm -f /tmp/portcullis-bench.txt\r");
    await new Promise((r) => setTimeout(r, 200));
    direct.close();
    viaGateway.close();
  } finally {
    await gateway.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
