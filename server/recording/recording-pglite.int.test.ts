// The recorder on the embedded PGlite store, where its appends run as prepared statements (db/prepared.ts): a
// session started with its first event, appends (plain and checked for a resumed session), and the hash chain
// verified from the stored rows. The PostgreSQL store runs the same statements in server/pipeline.int.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/auth/principal";

let dataDir: string;
const owner = {
  id: "user-1",
  kind: "person",
  email: "owner@example.com",
  groups: [],
} as unknown as Principal;
const other = {
  id: "user-2",
  kind: "person",
  email: "other@example.com",
  groups: [],
} as unknown as Principal;
const connection = { id: "conn-1", name: "shop" };

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-recording-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  const { getStore } = await import("@/db/store");
  const store = await getStore();
  expect(store.kind).toBe("pglite");
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function appendAs(principal: Principal, sessionId: string, connectionId = connection.id) {
  const { appendSessionEvent } = await import("./index");
  return appendSessionEvent(
    sessionId,
    "statement",
    { input: "select 3" },
    { statements: 1 },
    {
      principal,
      connectionId,
    },
  );
}

describe("recording on the embedded store", () => {
  it("starts a session with its first event, appends, refuses a foreign resume, and keeps the chain whole", async () => {
    const { appendSessionEvent, endSession, getSessionWithEvents, startSessionWithEvent } = await import(
      "./index"
    );
    const { verifySession } = await import("@/server/integrity");
    const { sessionId, eventId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 'it''s' as quoted, E'\\\\n' as escaped", status: "running" },
      counters: { statements: 1, allowed: 1 },
    });
    await appendSessionEvent(sessionId, "result", { statementEventId: eventId, rows: [["it's", "\\n"]] });
    await appendSessionEvent(
      sessionId,
      "statement",
      { input: "select 2" },
      { statements: 1, allowed: 1 },
      {
        principal: owner,
        connectionId: connection.id,
      },
    );
    await expect(appendAs(other, sessionId)).rejects.toMatchObject({ status: 404 });
    await expect(appendAs(owner, sessionId, "conn-2")).rejects.toMatchObject({ status: 400 });

    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "statement"],
      [2, "result"],
      [3, "statement"],
    ]);
    expect(recorded?.events[0]?.data.input).toBe("select 'it''s' as quoted, E'\\\\n' as escaped");
    expect(recorded?.events[1]?.data.rows).toEqual([["it's", "\\n"]]);
    expect(recorded?.session).toMatchObject({
      statements: 2,
      allowed: 2,
      eventSeq: 3,
      principalId: owner.id,
    });
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 3 });

    await endSession(sessionId);
    await expect(appendAs(owner, sessionId)).rejects.toMatchObject({
      status: 400,
      message: "that session has ended; start a new one",
    });
  });
});
