// The connection registry against a real PostgreSQL store (DATABASE_URL mode) and real targets: credentials
// are encrypted at rest, never in a view, and "Test connection" explains each kind of failure in words.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import { type SshdServer, startSshd } from "@/test/harness/sshd";

let pg: PostgresServer;
let sshd: SshdServer;
let storeUrl: string;
let dataDir: string;
const actor = { id: null, label: "test" };

beforeAll(async () => {
  [pg, sshd] = await Promise.all([startPostgres({ password: "Target-Pw-42-xyz" }), startSshd()]);
  storeUrl = await createDatabase(pg.url, "portcullis_store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-int-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await Promise.all([pg?.stop(), sshd?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("connections on a PostgreSQL store", () => {
  it("runs migrations, stores the password only as ciphertext, and never returns it", async () => {
    const { createConnection, listConnections, getConnectionForUse } = await import("@/server/connections");
    const { createGroup, loadPrincipal, createUser } = await import("@/server/auth");
    await createGroup(actor, { name: "warehouse-users" });
    const view = await createConnection(actor, {
      kind: "postgres",
      name: "warehouse",
      host: pg.host,
      port: pg.port,
      database: pg.database,
      username: pg.user,
      password: pg.password,
      groups: ["warehouse-users"],
    });
    expect(JSON.stringify(view)).not.toContain(pg.password);
    expect(view.credentials).toEqual({ password: true, privateKey: false });

    const raw = postgres(storeUrl, { max: 1 });
    const dump = await raw`select row_to_json(c)::text as row from connections c`;
    const audit = await raw`select row_to_json(a)::text as row from audit_events a`;
    await raw.end();
    expect(dump.map((r) => r.row).join("\n")).toContain("warehouse");
    expect(dump.map((r) => r.row).join("\n")).not.toContain(pg.password);
    expect(audit.map((r) => r.row).join("\n")).not.toContain(pg.password);

    const memberId = await createUser(actor, {
      email: "m@example.com",
      password: "member-pass-1",
      groups: ["warehouse-users"],
    });
    const outsiderId = await createUser(actor, { email: "o@example.com", password: "outsider-pass-1" });
    const member = await loadPrincipal(memberId, "session");
    const outsider = await loadPrincipal(outsiderId, "session");
    expect((await listConnections(member!)).map((c) => c.name)).toEqual(["warehouse"]);
    expect(await listConnections(outsider!)).toEqual([]);
    await expect(getConnectionForUse(outsider!, "warehouse")).rejects.toMatchObject({ status: 404 });
  });

  it("keeps who approves held requests, and refuses unknown approver groups", async () => {
    const { getConnectionById, updateConnection, listConnections } = await import("@/server/connections");
    const { createGroup, createUser, loadPrincipal } = await import("@/server/auth");
    await createGroup(actor, { name: "dba" });
    const [warehouse] = await listConnections(
      (await loadPrincipal(
        await createUser(actor, { email: "a@example.com", password: "admin-pass-12", role: "admin" }),
        "session",
      ))!,
    );
    await updateConnection(actor, warehouse!.id, {
      approvals: { approverGroups: ["dba"], approvalsRequired: 2 },
    });
    expect((await getConnectionById(warehouse!.id)).approvals).toEqual({
      approverGroups: ["dba"],
      approvalsRequired: 2,
    });
    expect((await getConnectionById(warehouse!.id)).credentials.password).toBe(true);
    await expect(
      updateConnection(actor, warehouse!.id, { approvals: { approverGroups: ["nope"] } }),
    ).rejects.toMatchObject({
      status: 400,
    });
  });

  it("tests a PostgreSQL connection and explains refused, auth, unknown database and DNS failures", async () => {
    const { createConnection, testConnection, updateConnection } = await import("@/server/connections");
    const ok = await createConnection(actor, {
      kind: "postgres",
      name: "probe",
      host: pg.host,
      port: pg.port,
      database: pg.database,
      username: pg.user,
      password: pg.password,
    });
    expect(await testConnection(actor, ok.id)).toMatchObject({ ok: true });

    await updateConnection(actor, ok.id, { password: "wrong-password" });
    const auth = await testConnection(actor, ok.id);
    expect(auth).toMatchObject({ ok: false, stage: "auth" });
    expect(auth.message).not.toContain("wrong-password");

    await updateConnection(actor, ok.id, { password: pg.password, database: "no_such_db" });
    expect(await testConnection(actor, ok.id)).toMatchObject({ ok: false, stage: "database" });

    await updateConnection(actor, ok.id, { port: 1 });
    expect(await testConnection(actor, ok.id)).toMatchObject({ ok: false, stage: "network" });

    await updateConnection(actor, ok.id, { host: "no-such-host.invalid" });
    expect(await testConnection(actor, ok.id)).toMatchObject({ ok: false, stage: "dns" });
  });

  it("tests an SSH connection with a key, pins the host key, and refuses a changed one", async () => {
    const { createConnection, testConnection, getConnectionById, updateConnection } = await import(
      "@/server/connections"
    );
    const conn = await createConnection(actor, {
      kind: "ssh",
      name: "bastion",
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
    });
    const first = await testConnection(actor, conn.id);
    expect(first).toMatchObject({ ok: true });
    expect((await getConnectionById(conn.id)).hostKey).toBe(sshd.hostKeyFingerprint);

    const { getDb } = await import("@/db/store");
    const { connections } = await import("@/db/schema");
    const { eq } = await import("drizzle-orm");
    await (await getDb())
      .update(connections)
      .set({ hostKey: "SHA256:someOtherKey" })
      .where(eq(connections.id, conn.id));
    expect(await testConnection(actor, conn.id)).toMatchObject({ ok: false, stage: "host_key" });

    await updateConnection(actor, conn.id, { privateKey: "", password: "not-the-password" });
    await (await getDb()).update(connections).set({ hostKey: null }).where(eq(connections.id, conn.id));
    expect(await testConnection(actor, conn.id)).toMatchObject({ ok: false, stage: "auth" });
  });

  it("the admin command line works against the same store", () => {
    const env = { ...process.env, DATABASE_URL: storeUrl, DATA_DIR: dataDir };
    const run = (...args: string[]) =>
      execFileSync(
        process.execPath,
        ["--import", "tsx", "--import", "./scripts/server-only-hook.mjs", "scripts/admin.ts", ...args],
        {
          env,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
    run("group", "add", "ci");
    run("user", "add", "--email", "cli@example.com", "--password", "cli-password-1", "--group", "ci");
    const token = run("token", "create", "--name", "ci-job", "--group", "ci").trim();
    expect(token).toMatch(/^ptc_[A-Za-z0-9_-]{43}$/);
    expect(run("user", "list")).toContain("cli@example.com\tmember\tactive\tci");
    expect(run("group", "list")).toMatch(/^ci\t2 members/m);
  });

  it("a token resolves to its service account until revoked", async () => {
    const { createServiceAccount, principalFromToken, revokeToken } = await import("@/server/auth");
    const created = await createServiceAccount(actor, { name: "agent", groups: ["warehouse-users"] });
    const principal = await principalFromToken(created.token);
    expect(principal).toMatchObject({ kind: "service", name: "agent", via: "token" });
    expect(principal?.groups.map((g) => g.name)).toEqual(["warehouse-users"]);
    await revokeToken(actor, created.tokenId);
    expect(await principalFromToken(created.token)).toBeNull();
    expect(await principalFromToken("ptc_unknown")).toBeNull();
  });
});
