// Two console processes on one PostgreSQL store: a terminal runs here; a second process (replica-probe.fixture.ts)
// sees it in the live list, approves a command it holds (the approval reaches this process by NOTIFY and the
// line runs), and ends it (the end request reaches this process by NOTIFY too).
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";
import { type SshdServer, startSshd } from "@/test/harness/sshd";
import { addTestBox } from "./terminal-fixtures";
import type { TerminalClient, TerminalControl } from "./terminal-session";

let gateway: GatewayFixture;
let sshd: SshdServer;
let member: Principal;
let approverId: string;
let replica: ChildProcessWithoutNullStreams;
let replicaOutput = "";
const markers = mkdtempSync(path.join(tmpdir(), "portcullis-replica-markers-"));

beforeAll(async () => {
  [gateway, sshd] = await Promise.all([startGatewayFixture({ name: "replicas" }), startSshd()]);
  chmodSync(markers, 0o777);
  const { createUser, loadPrincipal } = await import("@/server/auth");
  const memberId = await createUser(TEST_ACTOR, {
    email: "op@example.com",
    password: "operator-password-1",
    groups: ["analysts"],
  });
  member = (await loadPrincipal(memberId, "session"))!;
  approverId = await createUser(TEST_ACTOR, {
    email: "lead@example.com",
    password: "approver-password-1",
    role: "admin",
  });
  await addTestBox(sshd, "analysts");
  replica = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      "./scripts/server-only-hook.mjs",
      "server/terminal/replica-probe.fixture.ts",
    ],
    {
      cwd: path.resolve(__dirname, "../.."),
      env: { ...process.env, DATABASE_URL: gateway.storeUrl, DATA_DIR: gateway.dataDir },
    },
  );
  replica.stdout.on("data", (chunk: Buffer) => {
    replicaOutput += chunk.toString();
  });
  replica.stderr.on("data", (chunk: Buffer) => {
    replicaOutput += chunk.toString();
  });
  await waitFor(() => replicaOutput.includes("ready\n"), "the other replica", 30_000);
}, 120_000);

afterAll(async () => {
  if (replica) {
    const exited = new Promise((resolve) => replica.once("exit", resolve));
    replica.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (replica.exitCode === null) replica.kill();
  }
  const { stopTerminalSignals } = await import("./index");
  await stopTerminalSignals();
  await gateway?.stop();
  await sshd?.stop();
  rmSync(markers, { recursive: true, force: true });
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Sends one command to the other replica and returns its answer. */
async function ask(command: string): Promise<{ ok?: unknown; error?: string }> {
  const before = replicaOutput.length;
  replica.stdin.write(`${command}\n`);
  await waitFor(() => replicaOutput.slice(before).includes("}\n"), `the replica's answer to ${command}`);
  const line = replicaOutput
    .slice(before)
    .split("\n")
    .find((l) => l.startsWith("{"));
  return JSON.parse(line ?? "{}") as { ok?: unknown; error?: string };
}

describe("terminals across console processes", () => {
  it("are listed, approved and ended from another process", async () => {
    let output = "";
    let isClosed = false;
    const controls: TerminalControl[] = [];
    const client: TerminalClient = {
      output: (data) => {
        output += data;
      },
      control: (message) => controls.push(message),
      close: () => {
        isClosed = true;
      },
      bufferedAmount: () => 0,
    };
    const { TerminalSession } = await import("./terminal-session");
    const session = await TerminalSession.start(member, "box", { cols: 200, rows: 30 }, client);
    // readline turns bracketed paste on when it reads a line: the prompt is ready.
    await waitFor(() => output.includes("\u001b[?2004h"), "the prompt");

    const listed = await ask("list");
    expect(listed.ok).toContainEqual(
      expect.objectContaining({
        sessionId: session.sessionId,
        connectionName: "box",
        isOnThisProcess: false,
      }),
    );

    const marker = path.join(markers, "portcullis-marker-replica");
    for (const key of `touch ${marker}`) session.input(key);
    session.input("\r");
    const { listReviews } = await import("@/server/approvals");
    let reviewId = "";
    await waitFor(async () => {
      reviewId = (await listReviews(member, "mine")).find((r) => r.state === "pending")?.id ?? "";
      return reviewId !== "";
    }, "the review");
    await session.idle();
    expect(existsSync(marker)).toBe(false);
    // The terminal here may already have sent the line by the time the other process reads the review back.
    const decided = (await ask(`approve ${reviewId} ${approverId}`)) as { ok: string };
    expect(["approved", "executed"]).toContain(decided.ok);
    await waitFor(() => existsSync(marker), "the approved command to run here");
    const { getReview } = await import("@/server/approvals");
    await waitFor(async () => (await getReview(member, reviewId)).state === "executed", "executed");

    expect(await ask(`end ${session.sessionId}`)).toEqual({ ok: null });
    await waitFor(() => isClosed, "the end request to reach this process");
    expect(controls.at(-1)).toEqual({ type: "ended", reason: "ended by the other replica" });
    expect(await ask("list")).toEqual({ ok: [] });
  });
});
