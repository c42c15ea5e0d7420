// The sessions list on a real PostgreSQL store: each filter narrows the list as a person would expect, text search
// treats % and _ as text, members see only their own sessions, and pages hold 50 sessions, newest first.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import type { SessionFilters } from "./sessions-query";

let pg: PostgresServer;
let dataDir: string;

const person = (id: string, email: string, role: Principal["role"]): Principal => ({
  id,
  email,
  name: email,
  role,
  kind: "person",
  groups: [],
  via: "session",
});
const admin = person("u-admin", "admin@example.com", "admin");
const ada = person("u-ada", "ada@example.com", "member");
const bob = person("u-bob", "bob@example.com", "member");
const shop = { id: "c-shop", name: "shop" };
const web = { id: "c-web", name: "web-1" };
const ids: Record<string, string> = {};

beforeAll(async () => {
  pg = await startPostgres();
  const storeUrl = await createDatabase(pg.url, "store");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-sessions-query-"));
  process.env.DATABASE_URL = storeUrl;
  process.env.DATA_DIR = dataDir;
  const { appendSessionEvent, endSession, startSession } = await import("./index");

  ids.adaSelect = await startSession(ada, shop, "sql", "editor");
  const statement = await appendSessionEvent(
    ids.adaSelect,
    "statement",
    { input: "select email, discount_50% from customers", decision: "allow", status: "running" },
    { statements: 1, allowed: 1 },
  );
  await appendSessionEvent(
    ids.adaSelect,
    "result",
    {
      statementEventId: statement,
      status: "done",
      results: [
        {
          columns: [{ name: "email", type: "text" }],
          rows: [["a•••@example.com"]],
          maskedColumns: ["email"],
        },
      ],
    },
    { maskedFields: 1 },
  );
  await endSession(ids.adaSelect);

  ids.adaHeld = await startSession(ada, shop, "sql", "api");
  await appendSessionEvent(
    ids.adaHeld,
    "statement",
    { input: "delete from orders", decision: "review", status: "held", reviewId: "r1" },
    { statements: 1, held: 1 },
  );

  ids.bobTerminal = await startSession(bob, web, "terminal", "terminal");
  await appendSessionEvent(ids.bobTerminal, "output", { t: 0.1, data: "$ " });
  await appendSessionEvent(
    ids.bobTerminal,
    "command",
    { t: 1, command: "sudo shutdown now", decision: "deny" },
    { statements: 1, blocked: 1 },
  );
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function list(principal: Principal, raw: Record<string, string> = {}) {
  const { parseSessionFilters, querySessions } = await import("./sessions-query");
  const filters: SessionFilters = parseSessionFilters(raw);
  return querySessions(principal, filters);
}
const idsOf = (page: { sessions: { id: string }[] }) => page.sessions.map((s) => s.id).sort();

describe("sessions query", () => {
  it("shows members only their own sessions and auditors all of them, newest first", async () => {
    expect(idsOf(await list(ada))).toEqual([ids.adaHeld, ids.adaSelect].sort());
    expect(idsOf(await list(bob))).toEqual([ids.bobTerminal]);
    const all = await list(admin);
    expect(all.isAllSessions).toBe(true);
    expect(all.sessions.map((s) => s.id)).toEqual([ids.bobTerminal, ids.adaHeld, ids.adaSelect]);
  });

  it("filters by user, connection, kind, channel and decision", async () => {
    expect(idsOf(await list(admin, { user: "BOB@" }))).toEqual([ids.bobTerminal]);
    expect(idsOf(await list(admin, { connection: "shop" }))).toHaveLength(2);
    expect(idsOf(await list(admin, { kind: "terminal" }))).toEqual([ids.bobTerminal]);
    expect(idsOf(await list(admin, { channel: "api" }))).toEqual([ids.adaHeld]);
    expect(idsOf(await list(admin, { decision: "held" }))).toEqual([ids.adaHeld]);
    expect(idsOf(await list(admin, { decision: "blocked" }))).toEqual([ids.bobTerminal]);
  });

  it("finds text in statements and command lines, with % and _ taken literally", async () => {
    expect(idsOf(await list(admin, { q: "DELETE FROM" }))).toEqual([ids.adaHeld]);
    expect(idsOf(await list(admin, { q: "shutdown" }))).toEqual([ids.bobTerminal]);
    expect(idsOf(await list(admin, { q: "_50%" }))).toEqual([ids.adaSelect]);
    expect(idsOf(await list(admin, { q: "%" }))).toEqual([ids.adaSelect]);
    expect(idsOf(await list(admin, { q: "e_ail" }))).toEqual([]);
  });

  it("finds sessions whose results touched a column", async () => {
    expect(idsOf(await list(admin, { column: "EMAIL" }))).toEqual([ids.adaSelect]);
    expect(idsOf(await list(admin, { column: "ssn" }))).toEqual([]);
  });

  it("filters by time range, whole days included", async () => {
    const today = new Date().toISOString().slice(0, 10);
    expect(idsOf(await list(admin, { from: today, to: today }))).toHaveLength(3);
    expect(idsOf(await list(admin, { to: "2000-01-01" }))).toEqual([]);
    await expect(list(admin, { from: "yesterday" })).rejects.toThrow(/not a date/);
  });

  it("returns counters, duration and state", async () => {
    const [held] = (await list(admin, { decision: "held" })).sessions;
    expect(held).toMatchObject({
      statements: 1,
      held: 1,
      state: "live",
      kind: "sql",
      principalLabel: ada.email,
    });
    const [select] = (await list(admin, { column: "email" })).sessions;
    expect(select).toMatchObject({ state: "ended", maskedFields: 1, allowed: 1 });
    expect(select?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("pages 50 at a time", async () => {
    const { startSession } = await import("./index");
    for (let i = 0; i < 55; i++) await startSession(bob, web, "terminal", "terminal");
    const first = await list(bob);
    expect(first.sessions).toHaveLength(50);
    expect(first.hasMore).toBe(true);
    const second = await list(bob, { page: "2" });
    expect(second.sessions).toHaveLength(6);
    expect(second.hasMore).toBe(false);
    expect(new Set([...idsOf(first), ...idsOf(second)]).size).toBe(56);
  });

  it("pages by cursor: older from a page's last session, newer from its first, same sessions as by offset", async () => {
    const first = await list(bob);
    expect(first.prevCursor).toBeNull();
    const older = await list(bob, { before: first.nextCursor ?? "" });
    expect(older.sessions.map((s) => s.id)).toEqual(
      (await list(bob, { page: "2" })).sessions.map((s) => s.id),
    );
    expect(older.nextCursor).toBeNull();
    expect(older.prevCursor).not.toBeNull();
    const back = await list(bob, { after: older.prevCursor ?? "" });
    expect(back.sessions.map((s) => s.id)).toEqual(first.sessions.map((s) => s.id));
    expect(back.prevCursor).toBeNull();
    await expect(list(bob, { before: "not-a-cursor" })).rejects.toThrow(/page cursor/);
  });

  it("finds text that more than 2,000 statements hold (the probe, not the trigram list) as it finds rare text", async () => {
    const { appendSessionEvent, startSession } = await import("./index");
    const common: string[] = [];
    for (let s = 0; s < 3; s++) {
      const id = await startSession(bob, web, "sql", "api");
      common.push(id);
      for (let i = 0; i < 700; i++) {
        await appendSessionEvent(id, "statement", {
          input: `select ${i} as common_probe_text`,
          decision: "allow",
        });
      }
    }
    const rare = await startSession(bob, web, "sql", "api");
    await appendSessionEvent(rare, "statement", { input: "select 1 as rare_probe_text", decision: "allow" });
    expect(idsOf(await list(admin, { q: "common_probe_text" }))).toEqual([...common].sort());
    expect(idsOf(await list(bob, { q: "COMMON_PROBE" }))).toEqual([...common].sort());
    expect(idsOf(await list(admin, { q: "rare_probe_text" }))).toEqual([rare]);
    expect(idsOf(await list(ada, { q: "rare_probe_text" }))).toEqual([]);
    expect(idsOf(await list(admin, { q: "absent_probe_text" }))).toEqual([]);
  });
});
