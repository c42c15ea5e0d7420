/**
 * The admin command line: what an operator scripts. Works against the same store as the running console:
 * DATABASE_URL when set; otherwise the embedded store, through the running console's local socket when it is
 * up, or opened directly when it is not.
 *
 *   npm run admin -- user add --email a@b.c --password '...' [--name N] [--admin] [--group G ...]
 *   npm run admin -- user list
 *   npm run admin -- group add NAME [--description D]
 *   npm run admin -- group list
 *   npm run admin -- group add-member GROUP EMAIL
 *   npm run admin -- token create --name N [--group G ...] [--expires-days D]
 *   npm run admin -- token revoke TOKEN_ID
 *   npm run admin -- connection add --name N --kind postgres|ssh --host H [--port P] [--database D]
 *                    --username U [--group G ...]   (password from PORTCULLIS_TARGET_PASSWORD, key from a file)
 *   npm run admin -- connection list
 *   npm run admin -- migrate
 *   npm run admin -- verify session SESSION_ID   (exit 1 when the session's hash chain does not verify)
 *   npm run admin -- verify audit [--checkpoint SEQ:HASH ...]   (exit 1 when the audit log's chain does not
 *                    verify, or no longer holds a head sent out earlier as an audit.checkpoint webhook)
 *   npm run admin -- verify bundle FILE [--head HASH]   (an evidence bundle on its own, no store needed)
 *   npm run admin -- retention run [--days D]    (D defaults to RETENTION_DAYS)
 */
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { installStore, openStore } from "@/db/store";
import {
  addGroupMember,
  createGroup,
  createServiceAccount,
  createUser,
  issueToken,
  listGroups,
  listPeople,
  listServiceAccounts,
  revokeToken,
} from "@/server/auth";
import { getConfig } from "@/server/config";
import { createConnection } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import {
  auditHashAt,
  type BundleVerification,
  type ChainVerification,
  verifyAuditLog,
  verifyEvidenceBundle,
  verifySession,
} from "@/server/integrity";
import { deleteExpiredSessions } from "@/server/retention";

const actor = { id: null, label: "admin-cli" };

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Errors of a store socket that is busy or went away mid-start: worth another try after a pause. */
function isBusy(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  return ["ECONNRESET", "ECONNREFUSED", "EPIPE", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "53300"].includes(
    code ?? "",
  );
}

/** Through the running console's socket; it serves one command at a time, so a busy one is tried again. */
async function openThroughConsole(socketPath: string, dataDir: string) {
  const pauses = [250, 500, 1000, 2000, 4000];
  for (let attempt = 0; ; attempt++) {
    try {
      return await openStore({ socketPath, dataDir });
    } catch (err) {
      const pause = pauses[attempt];
      if (!isBusy(err)) throw err;
      if (pause === undefined) {
        throw new GatewayError(
          "unavailable",
          `the running console's store is busy (other admin commands hold it, or it is stopping): tried ${pauses.length + 1} times; try again in a moment`,
        );
      }
      console.error(`the console's store is busy; trying again in ${pause / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

async function open() {
  const config = getConfig();
  if (config.databaseUrl) return openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const socketPath = path.join(config.dataDir, ".store.sock");
  if (existsSync(socketPath) && (await socketAnswers(socketPath)))
    return openThroughConsole(socketPath, config.dataDir);
  return openStore({ dataDir: config.dataDir });
}

function usage(): never {
  console.error(
    [
      "usage: npm run admin -- <command>",
      "  user add --email E --password P [--name N] [--admin] [--group G ...]",
      "  user list",
      "  group add NAME [--description D]",
      "  group list",
      "  group add-member GROUP EMAIL",
      "  token create --name N [--group G ...] [--expires-days D]",
      "  token revoke TOKEN_ID",
      "  connection add --name N --kind postgres|ssh --host H [--port P] [--database D] --username U [--group G ...]",
      "                 [--private-key-file F]   (password from the PORTCULLIS_TARGET_PASSWORD variable)",
      "  connection list",
      "  migrate",
      "  verify session SESSION_ID | verify audit [--checkpoint SEQ:HASH ...]   (exit 1 when a chain does not verify)",
      "  verify bundle FILE [--head HASH]            (an evidence bundle on its own; --head: the head you kept)",
      "  retention run [--days D]                    (D defaults to RETENTION_DAYS)",
    ].join("\n"),
  );
  process.exit(2);
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: "string" },
      password: { type: "string" },
      name: { type: "string" },
      admin: { type: "boolean", default: false },
      group: { type: "string", multiple: true, default: [] },
      description: { type: "string", default: "" },
      "expires-days": { type: "string" },
      kind: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      database: { type: "string" },
      username: { type: "string" },
      "private-key-file": { type: "string" },
      days: { type: "string" },
      head: { type: "string" },
      checkpoint: { type: "string", multiple: true, default: [] },
    },
  });
  const [noun, verb, ...rest] = positionals;
  if (!noun) usage();
  // An evidence bundle is checked on its own (an auditor's copy, away from the console): no store is opened.
  if (noun === "verify" && verb === "bundle") {
    const file = rest[0];
    if (!file) usage();
    await verifyBundleFile(file, values.head);
    return;
  }
  const store = await open();
  installStore(store);
  try {
    const command = `${noun} ${verb ?? ""}`.trim();
    switch (command) {
      case "migrate":
        console.log(`migrations applied (${store.kind} store)`);
        break;
      case "user add": {
        if (!values.email || !values.password) usage();
        await createUser(actor, {
          email: values.email,
          password: values.password,
          name: values.name,
          role: values.admin ? "admin" : "member",
          groups: values.group,
        });
        console.log(`created user ${values.email}${values.admin ? " (admin)" : ""}`);
        break;
      }
      case "user list":
        for (const u of await listPeople()) {
          console.log(`${u.email}\t${u.role}\t${u.disabled ? "disabled" : "active"}\t${u.groups.join(",")}`);
        }
        break;
      case "group add": {
        const name = rest[0] ?? values.name;
        if (!name) usage();
        await createGroup(actor, { name, description: values.description });
        console.log(`created group ${name}`);
        break;
      }
      case "group list":
        for (const g of await listGroups())
          console.log(`${g.name}\t${g.members.length} members\t${g.description}`);
        break;
      case "group add-member": {
        const [groupName, email] = rest;
        if (!groupName || !email) usage();
        const group = (await listGroups()).find((g) => g.name === groupName);
        const user =
          (await listPeople()).find((u) => u.email === email.toLowerCase()) ??
          (await listServiceAccounts()).find((a) => a.name === email);
        if (!group) throw new GatewayError("not_found", `no group named ${groupName}`);
        if (!user) throw new GatewayError("not_found", `no user or service account ${email}`);
        await addGroupMember(actor, group.id, user.id);
        console.log(`added ${email} to ${groupName}`);
        break;
      }
      case "token create": {
        if (!values.name) usage();
        const days = values["expires-days"] ? Number(values["expires-days"]) : undefined;
        const existing = (await listServiceAccounts()).find((a) => a.name === values.name);
        const issued = existing
          ? await issueToken(actor, existing.id, "cli", days)
          : await createServiceAccount(actor, {
              name: values.name,
              groups: values.group,
              tokenName: "cli",
              expiresInDays: days,
            });
        // The token alone on stdout, so scripts can capture it; the rest goes to stderr.
        console.error(`token for service account ${values.name} (shown once; id ${issued.tokenId}):`);
        console.log(issued.token);
        break;
      }
      case "token revoke": {
        const id = rest[0];
        if (!id) usage();
        await revokeToken(actor, id);
        console.log(`revoked token ${id}`);
        break;
      }
      case "connection add": {
        if (
          !values.name ||
          !values.host ||
          !values.username ||
          (values.kind !== "postgres" && values.kind !== "ssh")
        )
          usage();
        // Secrets never travel on the command line (shell history, process list): an env var or a file.
        const password = process.env.PORTCULLIS_TARGET_PASSWORD;
        const privateKey = values["private-key-file"]
          ? readFileSync(values["private-key-file"], "utf8")
          : undefined;
        const common = {
          name: values.name,
          host: values.host,
          port: values.port ? Number(values.port) : undefined,
          username: values.username,
          groups: values.group,
          ...(password && { password }),
          ...(privateKey && { privateKey }),
        };
        const created =
          values.kind === "postgres"
            ? await createConnection(actor, {
                ...common,
                kind: "postgres",
                database: values.database ?? "postgres",
              })
            : await createConnection(actor, { ...common, kind: "ssh" });
        console.log(`created connection ${created.name} (${created.kind} ${created.host}:${created.port})`);
        break;
      }
      case "connection list": {
        const { listAllConnections } = await import("@/server/connections");
        for (const c of await listAllConnections()) {
          console.log(
            `${c.name}\t${c.kind}\t${c.host}:${c.port}${c.database ? `/${c.database}` : ""}\t${c.groups.join(",")}`,
          );
        }
        break;
      }
      case "verify session": {
        const id = rest[0];
        if (!id) usage();
        const result = await verifySession(id);
        if (!result) throw new GatewayError("not_found", `no session ${id}`);
        reportVerification(`session ${id}`, result);
        break;
      }
      case "verify audit": {
        const result = await verifyAuditLog();
        reportVerification("audit log", result);
        // Heads sent out earlier (audit.checkpoint webhooks): a chain rebuilt whole verifies, but not against them.
        if (result.ok) for (const checkpoint of values.checkpoint) await checkAgainst(checkpoint);
        break;
      }
      case "retention run": {
        const days = values.days ? Number(values.days) : getConfig().retentionDays;
        if (days === undefined || !Number.isFinite(days) || days <= 0) {
          throw new GatewayError("bad_request", "give --days D or set RETENTION_DAYS to a positive number");
        }
        const run = await deleteExpiredSessions({ days, actor, isAlwaysAudited: true });
        console.log(
          `deleted ${run.deleted} session${run.deleted === 1 ? "" : "s"} that ended before ${run.cutoff.toISOString()}`,
        );
        break;
      }
      default:
        usage();
    }
  } finally {
    await store.close();
  }
}

/** Prints the result of a chain check; a broken chain sets a failing exit code. */
/** Checks that the audit event at SEQ still has the hash HASH that a checkpoint recorded elsewhere. */
async function checkAgainst(checkpoint: string) {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(checkpoint.trim());
  if (!match)
    throw new GatewayError("bad_request", `--checkpoint ${checkpoint}: expected SEQ:HASH (64 hex digits)`);
  const seq = Number(match[1]);
  const stored = await auditHashAt(seq);
  if (stored === match[2]) {
    console.log(`checkpoint ${seq}: matches`);
    return;
  }
  console.error(
    `checkpoint ${seq}: integrity check FAILED: ${stored ? "the log's event there has another hash (the chain was rewritten)" : "the log has no event there (events were removed)"}`,
  );
  process.exitCode = 1;
}

async function verifyBundleFile(file: string, head: string | undefined) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new GatewayError("bad_request", `cannot read ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError("bad_request", `${file} is not JSON`);
  }
  let result: BundleVerification;
  try {
    result = verifyEvidenceBundle(parsed, head);
  } catch (err) {
    throw new GatewayError("bad_request", `${file}: ${(err as Error).message}`);
  }
  reportVerification(`bundle ${path.basename(file)} (session ${result.sessionId})`, result);
}

function reportVerification(what: string, result: ChainVerification) {
  const legacy = result.unchained > 0 ? `; ${result.unchained} earlier events predate the chain` : "";
  if (result.ok) {
    console.log(
      `${what}: verified (${result.events} event${result.events === 1 ? "" : "s"}, head ${result.head.hash || "empty"})${legacy}`,
    );
    return;
  }
  console.error(`${what}: integrity check FAILED at event ${result.firstBadSeq}: ${result.reason}`);
  process.exitCode = 1;
}

// The embedded store opened here, and keys written, are this user's alone (as the console makes them).
process.umask(0o077);
main(process.argv.slice(2)).catch((err) => {
  if (err instanceof GatewayError) console.error(`error: ${err.message}`);
  else if (err instanceof ZodError)
    console.error(
      `error: ${err.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")}`,
    );
  else console.error("error:", err);
  process.exit(1);
});
